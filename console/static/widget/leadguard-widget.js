/*
 * leadguard chat widget: one <script> tag, no framework, no cookies.
 *
 *   <script src="https://console.example.com/widget/leadguard-widget.js"
 *           data-title="Talk to Acme" data-accent="#0b57d0"
 *           data-position="right" data-lang="en" defer></script>
 *
 * Talks only to the gateway it was loaded from (or data-gateway). Keeps the
 * gateway's opaque session token in sessionStorage (gone when the tab
 * closes); the conversation itself stays in memory. Every reply is put on
 * the page with textContent, never as HTML. Styles live in a stylesheet in
 * the widget's own shadow root, themed through CSS custom properties set
 * with the CSSOM, so the widget works under a strict Content-Security-Policy
 * (script-src, style-src and connect-src allowing the gateway's origin).
 */
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script || window.__leadguardWidgetLoaded) {
    return;
  }
  window.__leadguardWidgetLoaded = true;

  var STORAGE_KEY = "leadguard.chat.v1";
  var REQUEST_TIMEOUT_MS = 15000;
  var MAX_CHARS = 1000;

  var STRINGS = {
    en: {
      open: "Chat with us",
      close: "Close chat",
      title: "Ask us anything",
      intro: "You are chatting with an automated assistant.",
      privacy: "Privacy notice",
      log: "Conversation",
      you: "You",
      bot: "Assistant",
      label: "Your message",
      placeholder: "Type your message",
      send: "Send",
      human: "Talk to a human",
      erase: "Delete my data",
      eraseNow: "To delete everything now, confirm from your inbox: ",
      erasePage: "delete my data by email",
      suggestions: "Suggested replies",
      typing: "The assistant is typing",
      retry: "Retry",
      welcomeBack: "Welcome back. Your conversation continues.",
      offline: "We could not reach our assistant. Your message was kept; " +
        "press Retry or send again.",
      unavailable: "Our assistant is not responding right now. Your " +
        "message was kept; please try again in a moment.",
      rateLimited: "You are sending messages too quickly. Please wait " +
        "{s} seconds, then send again. Your message was kept.",
      tooLarge: "That message is too long. Please shorten it.",
      empty: "Please type a message first.",
      invalid: "That message could not be sent. Please try again.",
      origin: "Chat is not available on this website."
    },
    ms: {
      open: "Bersembang dengan kami",
      close: "Tutup sembang",
      title: "Tanya kami apa sahaja",
      intro: "Anda sedang bersembang dengan pembantu automatik.",
      privacy: "Notis privasi",
      log: "Perbualan",
      you: "Anda",
      bot: "Pembantu",
      label: "Mesej anda",
      placeholder: "Taip mesej anda",
      send: "Hantar",
      human: "Bercakap dengan manusia",
      erase: "Padam data saya",
      eraseNow: "Untuk memadam semuanya sekarang, sahkan melalui e-mel: ",
      erasePage: "padam data saya melalui e-mel",
      suggestions: "Balasan dicadangkan",
      typing: "Pembantu sedang menaip",
      retry: "Cuba lagi",
      welcomeBack: "Selamat kembali. Perbualan anda diteruskan.",
      offline: "Kami tidak dapat menghubungi pembantu. Mesej anda " +
        "disimpan; tekan Cuba lagi atau hantar semula.",
      unavailable: "Pembantu kami tidak menjawab sekarang. Mesej anda " +
        "disimpan; sila cuba sebentar lagi.",
      rateLimited: "Anda menghantar mesej terlalu pantas. Sila tunggu " +
        "{s} saat, kemudian hantar semula. Mesej anda disimpan.",
      tooLarge: "Mesej itu terlalu panjang. Sila pendekkan.",
      empty: "Sila taip mesej dahulu.",
      invalid: "Mesej itu tidak dapat dihantar. Sila cuba lagi.",
      origin: "Sembang tidak tersedia di laman web ini."
    }
  };

  // -- configuration from data attributes --------------------------------

  function hexColour(value, fallback) {
    return /^#[0-9a-fA-F]{6}$/.test(value || "") ? value : fallback;
  }

  function luminance(hex) {
    var channels = [1, 3, 5].map(function (i) {
      var c = parseInt(hex.substr(i, 2), 16) / 255;
      return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * channels[0] + 0.7152 * channels[1] + 0.0722 * channels[2];
  }

  function contrast(a, b) {
    var la = luminance(a);
    var lb = luminance(b);
    return (Math.max(la, lb) + 0.05) / (Math.min(la, lb) + 0.05);
  }

  // Text on the accent colour always meets WCAG AA (4.5:1): a requested
  // text colour that does not is replaced by white or near-black.
  function readableOn(accent, requested) {
    if (requested && contrast(accent, requested) >= 4.5) {
      return requested;
    }
    return contrast(accent, "#ffffff") >= contrast(accent, "#111111")
      ? "#ffffff" : "#111111";
  }

  var data = script.dataset;
  var lang = STRINGS[data.lang] ? data.lang : "en";
  var t = STRINGS[lang];
  var accent = hexColour(data.accent, "#0b57d0");
  var config = {
    gateway: (data.gateway || new URL(script.src, document.baseURI).origin)
      .replace(/\/+$/, ""),
    title: (data.title || t.title).slice(0, 60),
    accent: accent,
    accentText: readableOn(accent, hexColour(data.accentText, "")),
    position: data.position === "left" ? "left" : "right",
    lang: lang
  };

  // -- state -------------------------------------------------------------

  var state = {
    session: null,
    human: null,
    erase: null,
    links: null,
    pending: false,
    lastAttempt: null,
    blockedUntil: 0
  };

  function loadSession() {
    try {
      var saved = JSON.parse(window.sessionStorage.getItem(STORAGE_KEY));
      if (saved && typeof saved.session === "string") {
        state.session = saved.session;
        state.human = saved.human;
        state.erase = saved.erase;
        state.links = saved.links;
        return true;
      }
    } catch (ignored) {
      // Storage disabled or unreadable: the session lives in memory only.
    }
    return false;
  }

  function saveSession() {
    try {
      window.sessionStorage.setItem(STORAGE_KEY, JSON.stringify({
        session: state.session, human: state.human, erase: state.erase,
        links: state.links
      }));
    } catch (ignored) {
      // Storage disabled: the session lives in memory only.
    }
  }

  function forgetSession() {
    state.session = null;
    try {
      window.sessionStorage.removeItem(STORAGE_KEY);
    } catch (ignored) {
      // Nothing stored.
    }
  }

  // -- DOM ---------------------------------------------------------------

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      node.setAttribute(name, attrs[name]);
    });
    if (text !== undefined) {
      node.textContent = text;
    }
    return node;
  }

  var host = el("div", { "data-leadguard-widget": "" });
  var root = host.attachShadow({ mode: "open" });
  host.style.setProperty("--lgw-accent", config.accent);
  host.style.setProperty("--lgw-accent-text", config.accentText);

  var stylesheet = el("link", {
    rel: "stylesheet",
    href: config.gateway + "/widget/leadguard-widget.css"
  });
  var frame = el("div", { "class": "lgw lgw-" + config.position, lang: lang });
  var launcher = el("button", {
    type: "button", "class": "lgw-launcher", "aria-expanded": "false",
    "aria-controls": "lgw-panel"
  }, t.open);
  var panel = el("section", {
    id: "lgw-panel", "class": "lgw-panel", role: "dialog",
    "aria-labelledby": "lgw-title", hidden: ""
  });
  var header = el("header", { "class": "lgw-header" });
  var heading = el("h2", { id: "lgw-title", "class": "lgw-title" }, config.title);
  var closeButton = el("button", {
    type: "button", "class": "lgw-close", "aria-label": t.close
  }, "\u00d7");
  header.append(heading, closeButton);

  var intro = el("p", { "class": "lgw-intro" }, t.intro + " ");
  var privacyLink = el("a", {
    href: config.gateway + "/privacy/notice", target: "_blank",
    rel: "noopener noreferrer"
  }, t.privacy);
  intro.append(privacyLink);

  var log = el("div", {
    "class": "lgw-log", role: "log", "aria-live": "polite",
    "aria-label": t.log, tabindex: "0"
  });
  var typing = el("div", { "class": "lgw-typing", hidden: "" });
  typing.append(
    el("span", { "class": "lgw-dot", "aria-hidden": "true" }),
    el("span", { "class": "lgw-dot", "aria-hidden": "true" }),
    el("span", { "class": "lgw-dot", "aria-hidden": "true" }),
    el("span", { "class": "lgw-sr" }, t.typing)
  );
  var status = el("div", { "class": "lgw-status", role: "alert" });
  var statusText = el("p", { "class": "lgw-status-text" });
  var retryButton = el("button", {
    type: "button", "class": "lgw-retry", hidden: ""
  }, t.retry);
  status.append(statusText, retryButton);
  var quick = el("div", {
    "class": "lgw-quick", role: "group", "aria-label": t.suggestions
  });

  var form = el("form", { "class": "lgw-form" });
  var label = el("label", { "for": "lgw-input", "class": "lgw-sr" }, t.label);
  var input = el("textarea", {
    id: "lgw-input", "class": "lgw-input", rows: "2", maxlength: String(MAX_CHARS),
    placeholder: t.placeholder, autocomplete: "off"
  });
  var sendButton = el("button", { type: "submit", "class": "lgw-send" }, t.send);
  form.append(label, input, sendButton);

  var tools = el("nav", { "class": "lgw-tools", "aria-label": t.title });
  var humanButton = el("button", {
    type: "button", "class": "lgw-human"
  }, t.human);
  var eraseButton = el("button", {
    type: "button", "class": "lgw-erase"
  }, t.erase);
  tools.append(humanButton, eraseButton);

  panel.append(header, intro, log, typing, status, quick, form, tools);
  frame.append(launcher, panel);
  root.append(stylesheet, frame);

  // -- rendering ---------------------------------------------------------

  function addMessage(who, text) {
    var item = el("div", { "class": "lgw-msg lgw-" + who });
    item.append(
      el("span", { "class": "lgw-sr" }, (who === "you" ? t.you : t.bot) + ": "),
      el("span", { "class": "lgw-text" }, text)
    );
    log.append(item);
    log.scrollTop = log.scrollHeight;
  }

  function showQuickReplies(buttons) {
    quick.replaceChildren();
    buttons.forEach(function (button) {
      var node = el("button", { type: "button", "class": "lgw-chip" }, button.title);
      node.addEventListener("click", function () {
        sendReply(button.reply, button.title);
      });
      quick.append(node);
    });
  }

  function showBotMessages(messages) {
    var buttons = [];
    (messages || []).forEach(function (message) {
      if (typeof message.text === "string" && message.text) {
        addMessage("bot", message.text);
      }
      if (Array.isArray(message.buttons)) {
        buttons = message.buttons.filter(function (b) {
          return typeof b.title === "string" && typeof b.reply === "string";
        });
      }
    });
    showQuickReplies(buttons);
  }

  function setStatus(text, canRetry) {
    statusText.textContent = text || "";
    status.classList.toggle("lgw-has-status", Boolean(text));
    if (canRetry) {
      retryButton.removeAttribute("hidden");
    } else {
      retryButton.setAttribute("hidden", "");
    }
  }

  function setPending(pending) {
    state.pending = pending;
    sendButton.disabled = pending;
    humanButton.disabled = pending;
    eraseButton.disabled = pending;
    input.setAttribute("aria-busy", pending ? "true" : "false");
    log.setAttribute("aria-busy", pending ? "true" : "false");
    if (pending) {
      typing.removeAttribute("hidden");
    } else {
      typing.setAttribute("hidden", "");
    }
  }

  // -- talking to the gateway -------------------------------------------

  function post(path, body) {
    var controller = new AbortController();
    var timer = window.setTimeout(function () {
      controller.abort();
    }, REQUEST_TIMEOUT_MS);
    return window.fetch(config.gateway + path, {
      method: "POST",
      mode: "cors",
      credentials: "omit",
      cache: "no-store",
      referrerPolicy: "strict-origin",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
      signal: controller.signal
    }).then(function (response) {
      return response.json().catch(function () {
        return {};
      }).then(function (json) {
        return { status: response.status, body: json || {} };
      });
    }, function () {
      return { status: 0, body: {} };
    }).finally(function () {
      window.clearTimeout(timer);
    });
  }

  function explain(result) {
    var code = result.body.error;
    if (result.status === 429) {
      var wait = Number(result.body.retry_after) || 30;
      state.blockedUntil = Date.now() + wait * 1000;
      return t.rateLimited.replace("{s}", String(wait));
    }
    if (result.status === 0) {
      return t.offline;
    }
    var byCode = {
      unavailable: t.unavailable, too_large: t.tooLarge, empty: t.empty,
      origin: t.origin
    };
    return byCode[code] || t.invalid;
  }

  function startSession(thenSend) {
    setPending(true);
    setStatus("");
    return post("/chat/session", { language: config.lang }).then(function (r) {
      setPending(false);
      if (r.status !== 200 || typeof r.body.session !== "string") {
        state.lastAttempt = function () {
          return startSession(thenSend);
        };
        setStatus(explain(r), r.status !== 403);
        return;
      }
      state.session = r.body.session;
      state.human = r.body.human;
      state.erase = r.body.erase;
      state.links = r.body.links || null;
      saveSession();
      applyLinks();
      showBotMessages(r.body.messages);
      if (thenSend) {
        thenSend();
      }
    });
  }

  function deliver(body, shownText, fromInput, renewed) {
    if (state.pending) {
      return Promise.resolve();
    }
    if (Date.now() < state.blockedUntil) {
      var left = Math.ceil((state.blockedUntil - Date.now()) / 1000);
      setStatus(t.rateLimited.replace("{s}", String(left)), false);
      return Promise.resolve();
    }
    if (!state.session) {
      return startSession(function () {
        deliver(body, shownText, fromInput, true);
      });
    }
    setPending(true);
    setStatus("");
    body.session = state.session;
    body.language = config.lang;
    return post("/chat/message", body).then(function (r) {
      setPending(false);
      if (r.status === 401 && !renewed) {
        forgetSession();
        return startSession(function () {
          deliver(body, shownText, fromInput, true);
        });
      }
      if (r.status !== 200) {
        state.lastAttempt = function () {
          return deliver(body, shownText, fromInput, false);
        };
        setStatus(explain(r), r.status === 0 || r.status === 503);
        return;
      }
      state.lastAttempt = null;
      if (fromInput) {
        input.value = "";
      }
      addMessage("you", typeof r.body.you === "string" ? r.body.you : shownText);
      showBotMessages(r.body.messages);
      input.focus();
    });
  }

  function sendText() {
    var text = input.value.trim();
    if (!text) {
      setStatus(t.empty, false);
      return;
    }
    deliver({ text: text }, text, true, false);
  }

  function sendReply(token, title) {
    deliver({ reply: token }, title, false, false);
  }

  function applyLinks() {
    if (state.links && typeof state.links.privacy === "string") {
      privacyLink.setAttribute("href", state.links.privacy);
    }
  }

  // -- events ------------------------------------------------------------

  function openPanel() {
    panel.removeAttribute("hidden");
    launcher.setAttribute("aria-expanded", "true");
    frame.classList.add("lgw-open");
    if (!state.session && !state.pending) {
      if (loadSession()) {
        applyLinks();
        addMessage("bot", t.welcomeBack);
      } else {
        startSession(null);
      }
    }
    input.focus();
  }

  function closePanel() {
    panel.setAttribute("hidden", "");
    launcher.setAttribute("aria-expanded", "false");
    frame.classList.remove("lgw-open");
    launcher.focus();
  }

  launcher.addEventListener("click", function () {
    if (panel.hasAttribute("hidden")) {
      openPanel();
    } else {
      closePanel();
    }
  });
  closeButton.addEventListener("click", closePanel);
  panel.addEventListener("keydown", function (event) {
    if (event.key === "Escape") {
      closePanel();
    }
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    sendText();
  });
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      sendText();
    }
  });
  retryButton.addEventListener("click", function () {
    if (state.lastAttempt) {
      state.lastAttempt();
    }
  });
  // "Delete my data" asks the bot (it records an erasure request tied to
  // this chat and forgets the answers), then offers the self-service page,
  // where a link mailed to the visitor erases everything at once.
  function offerErasurePage() {
    var item = el("div", { "class": "lgw-msg lgw-bot lgw-note" });
    var link = el("a", {
      href: (state.links && typeof state.links.erase === "string")
        ? state.links.erase : config.gateway + "/privacy/erase",
      target: "_blank", rel: "noopener noreferrer"
    }, t.erasePage);
    item.append(el("span", { "class": "lgw-text" }, t.eraseNow), link);
    log.append(item);
    log.scrollTop = log.scrollHeight;
  }

  eraseButton.addEventListener("click", function () {
    var send = function () {
      if (state.erase) {
        deliver({ reply: state.erase }, t.erase, false, false)
          .then(offerErasurePage);
      } else {
        offerErasurePage();
      }
    };
    if (state.session) {
      send();
    } else {
      startSession(send);
    }
  });

  humanButton.addEventListener("click", function () {
    if (state.human) {
      sendReply(state.human, t.human);
    } else {
      startSession(function () {
        if (state.human) {
          sendReply(state.human, t.human);
        }
      });
    }
  });
  window.addEventListener("online", function () {
    if (state.lastAttempt && !state.pending) {
      state.lastAttempt();
    }
  });

  function mount() {
    document.body.append(host);
  }

  if (document.body) {
    mount();
  } else {
    document.addEventListener("DOMContentLoaded", mount);
  }
}());
