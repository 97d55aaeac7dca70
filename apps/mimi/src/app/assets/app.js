// mimi app: the page. Plain JavaScript, no libraries. Every text that comes from a message,
// a name or a server is put into the page with textContent or as a text node, never as HTML.
"use strict";

const QUICK_REACTIONS = ["👍", "❤️", "😂", "🎉"];
const SAFE_IMAGES = ["image/png", "image/jpeg", "image/gif", "image/webp"];

const state = {
  token: null,
  me: null,
  rooms: [],
  current: null, // room URI
  room: null, // the current room's JSON
  reply: null, // {id, sender, text}
  editing: null, // {id}
  reading: false,
  typingSent: 0,
  typingTimer: null,
  refreshTimer: null,
  refreshRooms: false,
  refreshRoom: false,
};

const $ = (id) => document.getElementById(id);

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(child);
  }
  return node;
}

// ---- the API ----------------------------------------------------------------------------

async function api(method, path, body) {
  const options = { method, headers: { Authorization: "Bearer " + state.token } };
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const response = await fetch(path, options);
  let data = null;
  try {
    data = await response.json();
  } catch (_) {
    data = null;
  }
  if (!response.ok) {
    throw new Error((data && data.error) || "the app answered " + response.status);
  }
  return data;
}

const enc = encodeURIComponent;
const roomPath = (room) => "/api/rooms/" + enc(room);

function toast(text) {
  const t = $("toast");
  t.textContent = text;
  t.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { t.hidden = true; }, 6000);
}

async function attempt(what, action) {
  try {
    return await action();
  } catch (e) {
    toast(what + ": " + e.message);
    return undefined;
  }
}

// ---- Markdown: a safe subset, built as DOM nodes ------------------------------------------

const INLINE = /(`[^`\n]+`)|(\*\*[^*\n]+\*\*)|(~~[^~\n]+~~)|(\*[^*\s][^*\n]*\*|_[^_\s][^_\n]*_)|(\[[^\]\n]+\]\((https?:\/\/[^)\s]+)\))|(https?:\/\/[^\s<>"]+)/g;

function link(href, text) {
  return el("a", { href, target: "_blank", rel: "noopener noreferrer", text });
}

// Character references in Markdown text (senders escape `<` as `&lt;`, GFM-MIMI "No HTML"):
// decoded into the text node, so they show as the characters they name and nothing else.
const NAMED = { lt: "<", gt: ">", amp: "&", quot: '"', apos: "'", nbsp: "\u00a0" };

function entities(text) {
  return text.replace(/&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[a-zA-Z]+);/g, (whole, name) => {
    if (name[0] === "#") {
      const code = name[1] === "x" || name[1] === "X" ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
      return code > 0 && code <= 0x10ffff && !(code >= 0xd800 && code <= 0xdfff) ? String.fromCodePoint(code) : "\ufffd";
    }
    return Object.prototype.hasOwnProperty.call(NAMED, name) ? NAMED[name] : whole;
  });
}

function inline(text, parent) {
  const re = new RegExp(INLINE.source, "g");
  let last = 0;
  let m;
  while ((m = re.exec(text)) !== null) {
    if (m.index > last) parent.append(entities(text.slice(last, m.index)));
    if (m[1]) parent.append(el("code", { text: m[1].slice(1, -1) }));
    else if (m[2]) inline(m[2].slice(2, -2), parent.appendChild(el("strong")));
    else if (m[3]) inline(m[3].slice(2, -2), parent.appendChild(el("del")));
    else if (m[4]) inline(m[4].slice(1, -1), parent.appendChild(el("em")));
    else if (m[5]) parent.append(link(m[6], m[5].slice(1, m[5].indexOf("]("))));
    else if (m[7]) parent.append(link(m[7], m[7]));
    last = re.lastIndex;
  }
  if (last < text.length) parent.append(entities(text.slice(last)));
}

function markdown(text) {
  const out = document.createDocumentFragment();
  const lines = text.split("\n");
  let i = 0;
  let para = null;
  const endPara = () => { para = null; };
  while (i < lines.length) {
    const line = lines[i];
    if (line.startsWith("```")) {
      endPara();
      const code = [];
      i += 1;
      while (i < lines.length && !lines[i].startsWith("```")) code.push(lines[i++]);
      i += 1;
      out.append(el("pre", {}, el("code", { text: code.join("\n") })));
      continue;
    }
    const list = /^\s*([-*+]|\d+[.)])\s+/.exec(line);
    if (list) {
      endPara();
      const ordered = /\d/.test(list[1]);
      const node = el(ordered ? "ol" : "ul");
      while (i < lines.length) {
        const item = /^\s*([-*+]|\d+[.)])\s+(.*)$/.exec(lines[i]);
        if (!item || /\d/.test(item[1]) !== ordered) break;
        inline(item[2], node.appendChild(el("li")));
        i += 1;
      }
      out.append(node);
      continue;
    }
    if (line.startsWith(">")) {
      endPara();
      const quote = el("blockquote");
      const quoted = [];
      while (i < lines.length && lines[i].startsWith(">")) quoted.push(lines[i++].replace(/^>\s?/, ""));
      quote.append(markdown(quoted.join("\n")));
      out.append(quote);
      continue;
    }
    const heading = /^(#{1,6})\s+(.*)$/.exec(line);
    if (heading) {
      endPara();
      inline(heading[2], out.appendChild(el("p", { class: "heading" })));
      i += 1;
      continue;
    }
    if (line.trim() === "") {
      endPara();
      i += 1;
      continue;
    }
    if (para) para.append(el("br"));
    else para = out.appendChild(el("p"));
    inline(line, para);
    i += 1;
  }
  return out;
}

function plain(text) {
  const out = document.createDocumentFragment();
  text.split("\n").forEach((line, n) => {
    if (n > 0) out.append(el("br"));
    out.append(line);
  });
  return el("p", {}, out);
}

// ---- rooms ------------------------------------------------------------------------------

function renderRooms() {
  const list = $("rooms");
  list.replaceChildren();
  $("no-rooms").hidden = state.rooms.length > 0;
  for (const r of state.rooms) {
    const current = r.room === state.current;
    const preview = r.last ? (r.last.mine ? "You" : r.last.sender) + ": " + r.last.text : "no messages yet";
    const label = r.title + (r.unread ? ", " + r.unread + " unread" : "") + (r.active ? "" : ", left");
    const button = el("button", {
      class: "room" + (current ? " current" : "") + (r.unread ? " unread" : ""),
      "data-room": r.room,
      "data-title": r.title,
      "aria-current": current ? "true" : null,
      "aria-label": label + ". " + preview,
      onclick: () => openRoom(r.room),
    },
    el("span", { class: "room-line" },
      el("span", { class: "room-title", text: r.title }),
      r.unread ? el("span", { class: "badge", text: String(r.unread), "aria-hidden": "true" }) : null),
    el("span", { class: "preview", text: preview }));
    list.append(el("li", {}, button));
  }
}

async function loadRooms() {
  const rooms = await attempt("cannot list your rooms", () => api("GET", "/api/rooms"));
  if (!rooms) return;
  state.rooms = rooms;
  renderRooms();
  markRead();
}

async function openRoom(room) {
  if (state.current !== room) {
    state.reply = null;
    state.editing = null;
    setContext();
    $("messages").replaceChildren();
  }
  state.current = room;
  renderRooms();
  await loadRoom();
  $("text").focus();
}

async function loadRoom() {
  if (!state.current) return;
  const room = state.current;
  const data = await attempt("cannot show the room", () => api("GET", roomPath(room)));
  if (!data || state.current !== room) return;
  state.room = data;
  renderRoom();
  markRead();
}

// The current room's messages of others are read once they are shown in a visible page.
async function markRead() {
  if (!state.current || state.reading || document.visibilityState !== "visible") return;
  const entry = state.rooms.find((r) => r.room === state.current);
  if (!entry || !entry.unread || !entry.active) return;
  state.reading = true;
  let done = false;
  try {
    await api("POST", roomPath(state.current) + "/read");
    done = true;
  } catch (e) {
    toast("cannot send the read receipt: " + e.message);
  } finally {
    state.reading = false;
  }
  // The room is not unread any more (the app counts it so at once): show that.
  if (done) loadRooms();
}

// ---- one room ---------------------------------------------------------------------------

function time(ms) {
  return new Date(ms).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

function receiptOf(m) {
  if (!m.receipt) return null;
  let mark = "✓";
  let text = "Sent";
  if (m.receipt === "read") {
    mark = "✓✓";
    text = "Read by " + m.read_by.join(", ");
  } else if (m.receipt === "delivered") {
    text = "Delivered" + (m.read_by.length ? ", read by " + m.read_by.join(", ") : "");
  } else if (m.delivered_to.length) {
    text = "Delivered to " + m.delivered_to.join(", ") + (m.read_by.length ? ", read by " + m.read_by.join(", ") : "");
  } else {
    mark = "";
  }
  return el("span", { class: "receipt " + m.receipt, title: text },
    mark ? el("span", { "aria-hidden": "true", text: mark + " " }) : null, text);
}

async function download(m, a, show) {
  const path = roomPath(state.current) + "/messages/" + m.id + "/attachments/" + a.index;
  const response = await attempt("cannot download " + a.filename, async () => {
    const r = await fetch(path, { headers: { Authorization: "Bearer " + state.token } });
    if (!r.ok) {
      let message = "the app answered " + r.status;
      try { message = (await r.json()).error; } catch (_) { /* not JSON */ }
      throw new Error(message);
    }
    return r;
  });
  if (!response) return;
  const bytes = await response.arrayBuffer();
  const image = show && SAFE_IMAGES.includes(a.content_type);
  const url = URL.createObjectURL(new Blob([bytes], { type: image ? a.content_type : "application/octet-stream" }));
  if (image) {
    const holder = document.querySelector('[data-preview="' + m.id + "-" + a.index + '"]');
    if (holder) holder.replaceChildren(el("img", { src: url, alt: a.description || a.filename }));
    return;
  }
  const anchor = el("a", { href: url, download: a.filename });
  document.body.append(anchor);
  anchor.click();
  anchor.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}

function size(bytes) {
  if (bytes < 1024) return bytes + " B";
  if (bytes < 1024 * 1024) return (bytes / 1024).toFixed(1) + " KiB";
  return (bytes / 1024 / 1024).toFixed(1) + " MiB";
}

function messageNode(m) {
  const body = el("div", { class: "body" });
  if (m.deleted) {
    body.append(el("p", { class: "deleted", text: m.removed_by_provider
      ? "This message was removed by the provider."
      : "This message was deleted." }));
  } else if (m.text) {
    body.append(m.markdown ? markdown(m.text) : plain(m.text));
  }
  if (!m.deleted) {
    for (const a of m.attachments) {
      const image = SAFE_IMAGES.includes(a.content_type);
      body.append(el("div", { class: "attachment" },
        el("span", { text: "📎 " + a.filename + " (" + size(a.size) + ")" }),
        image ? el("button", { type: "button", onclick: () => download(m, a, true), text: "Show" }) : null,
        el("button", { type: "button", onclick: () => download(m, a, false), text: "Download" }),
        el("div", { "data-preview": m.id + "-" + a.index })));
    }
  }
  const reactions = el("div", { class: "reactions" });
  for (const r of m.reactions) {
    const who = r.users.join(", ");
    reactions.append(el("button", {
      type: "button",
      class: "reaction" + (r.mine ? " mine" : ""),
      "aria-pressed": r.mine ? "true" : "false",
      title: who,
      "aria-label": r.text + " by " + who + (r.mine ? " (withdraw yours)" : " (add yours)"),
      disabled: !state.room.may_react,
      onclick: () => (r.mine ? unreact(r.mine) : react(m.id, r.text)),
    }, r.text + " " + r.users.length));
  }
  const actions = el("div", { class: "actions" });
  if (!m.deleted && state.room.may_send) {
    actions.append(el("button", { type: "button", class: "reply", onclick: () => startReply(m), text: "Reply" }));
  }
  if (!m.deleted && state.room.may_react) {
    for (const q of QUICK_REACTIONS) {
      actions.append(el("button", { type: "button", class: "react", "data-reaction": q, "aria-label": "React with " + q, onclick: () => react(m.id, q), text: q }));
    }
  }
  if (m.may_edit) actions.append(el("button", { type: "button", class: "edit", onclick: () => startEdit(m), text: "Edit" }));
  if (m.may_delete) actions.append(el("button", { type: "button", class: "delete", onclick: () => remove(m), text: "Delete" }));
  const meta = el("div", { class: "meta" },
    el("span", { class: "sender", text: m.mine ? "You" : m.sender }),
    el("time", { datetime: new Date(m.timestamp_ms).toISOString(), text: time(m.timestamp_ms) }),
    m.edits ? el("span", { class: "edited", text: "edited" }) : null,
    m.expires_at ? el("span", { class: "expires", text: "disappears at " + time(m.expires_at * 1000) }) : null);
  const quote = m.reply_to
    ? el("blockquote", { class: "quoted" }, el("span", { class: "sender", text: m.reply_to.sender || "" }), " ", m.reply_to.text)
    : null;
  return el("li", { class: "message" + (m.mine ? " mine" : ""), "data-id": m.id, tabindex: "-1" },
    meta, quote, body, reactions, m.mine ? receiptOf(m) : null, actions);
}

function typingText(users) {
  if (!users.length) return "";
  return users.join(", ") + (users.length > 1 ? " are" : " is") + " typing…";
}

function renderRoom() {
  const r = state.room;
  $("empty").hidden = true;
  $("room").hidden = false;
  $("members").hidden = false;
  $("room-title").textContent = r.title;
  $("room-topic").textContent = r.topic || "";
  const list = $("messages");
  const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  const existing = new Map();
  for (const li of list.children) existing.set(li.dataset.id, li);
  const now = Date.now();
  const shown = r.messages.filter((m) => !m.expires_at || m.expires_at * 1000 > now);
  const keep = new Set();
  shown.forEach((m, index) => {
    keep.add(m.id);
    const fresh = messageNode(m);
    const old = existing.get(m.id);
    if (old) {
      old.replaceChildren(...fresh.childNodes);
      old.className = fresh.className;
      if (list.children[index] !== old) list.insertBefore(old, list.children[index] || null);
    } else {
      list.insertBefore(fresh, list.children[index] || null);
    }
  });
  for (const [id, li] of existing) if (!keep.has(id)) li.remove();
  if (atBottom || !list.dataset.scrolled) {
    list.scrollTop = list.scrollHeight;
    list.dataset.scrolled = "1";
  }
  $("typing").textContent = typingText(r.typing);
  const members = $("member-list");
  members.replaceChildren();
  for (const m of r.members) {
    members.append(el("li", { class: "member" },
      el("span", { class: "member-name", text: m.user + (m.me ? " (you)" : "") }),
      el("span", { class: "role", text: m.role_name }),
      el("span", { class: "devices", text: m.banned ? "banned" : m.devices + (m.devices === 1 ? " device" : " devices") })));
  }
  $("invite").hidden = !r.may_invite;
  $("composer").hidden = !r.active;
  $("send").disabled = !r.may_send;
  $("text").disabled = !r.may_send;
}

// ---- actions ----------------------------------------------------------------------------

function setContext() {
  const box = $("context");
  if (state.editing) {
    $("context-text").textContent = "Editing your message";
    box.hidden = false;
  } else if (state.reply) {
    $("context-text").textContent = "Replying to " + state.reply.sender + ": " + state.reply.text.slice(0, 60);
    box.hidden = false;
  } else {
    box.hidden = true;
  }
}

function startReply(m) {
  state.editing = null;
  state.reply = { id: m.id, sender: m.mine ? "yourself" : m.sender, text: m.text };
  setContext();
  $("text").focus();
}

function startEdit(m) {
  state.reply = null;
  state.editing = { id: m.id };
  $("text").value = m.text;
  setContext();
  $("text").focus();
}

async function react(id, reaction) {
  await attempt("cannot react", () => api("POST", roomPath(state.current) + "/messages/" + id + "/reactions", { reaction }));
  loadRoom();
}

async function unreact(reactionId) {
  await attempt("cannot withdraw the reaction", () => api("DELETE", roomPath(state.current) + "/reactions/" + reactionId));
  loadRoom();
}

async function remove(m) {
  if (!window.confirm("Delete this message for everyone in the room?")) return;
  await attempt("cannot delete", () => api("DELETE", roomPath(state.current) + "/messages/" + m.id));
  loadRoom();
}

async function submit(event) {
  event.preventDefault();
  const box = $("text");
  const text = box.value;
  if (!text.trim() || !state.current) return;
  const room = state.current;
  let done;
  if (state.editing) {
    done = await attempt("cannot edit", () => api("PUT", roomPath(room) + "/messages/" + state.editing.id, { text }));
  } else {
    const body = { text, markdown: $("markdown").checked };
    if (state.reply) body.reply_to = state.reply.id;
    else if ($("expiry").value) body.expires_in_s = Number($("expiry").value);
    done = await attempt("cannot send", () => api("POST", roomPath(room) + "/messages", body));
  }
  if (done) {
    box.value = "";
    state.reply = null;
    state.editing = null;
    setContext();
    stopTyping();
    loadRoom();
    loadRooms();
  }
}

function typed() {
  if (!state.current) return;
  const now = Date.now();
  if (now - state.typingSent > 4000) {
    state.typingSent = now;
    api("POST", roomPath(state.current) + "/typing", { active: true }).catch(() => {});
  }
  clearTimeout(state.typingTimer);
  state.typingTimer = setTimeout(stopTyping, 5000);
}

function stopTyping() {
  clearTimeout(state.typingTimer);
  if (state.typingSent && state.current) {
    state.typingSent = 0;
    api("POST", roomPath(state.current) + "/typing", { active: false }).catch(() => {});
  }
}

function upload() {
  const input = $("file");
  const file = input.files && input.files[0];
  if (!file || !state.current) return;
  const progress = $("upload");
  progress.hidden = false;
  progress.value = 0;
  const xhr = new XMLHttpRequest();
  const query = "?name=" + enc(file.name) + "&type=" + enc(file.type || "application/octet-stream");
  xhr.open("POST", roomPath(state.current) + "/files" + query);
  xhr.setRequestHeader("Authorization", "Bearer " + state.token);
  xhr.setRequestHeader("Content-Type", "application/octet-stream");
  xhr.upload.onprogress = (e) => { if (e.lengthComputable) progress.value = (100 * e.loaded) / e.total; };
  xhr.onload = () => {
    progress.hidden = true;
    input.value = "";
    if (xhr.status !== 200) {
      let message = "the app answered " + xhr.status;
      try { message = JSON.parse(xhr.responseText).error; } catch (_) { /* not JSON */ }
      toast("cannot send " + file.name + ": " + message);
    }
    loadRoom();
  };
  xhr.onerror = () => {
    progress.hidden = true;
    toast("cannot send " + file.name + ": the app did not answer");
  };
  xhr.send(file);
}

// ---- live updates -----------------------------------------------------------------------

function schedule(rooms, room) {
  state.refreshRooms = state.refreshRooms || rooms;
  state.refreshRoom = state.refreshRoom || room;
  if (state.refreshTimer) return;
  state.refreshTimer = setTimeout(async () => {
    const [doRooms, doRoom] = [state.refreshRooms, state.refreshRoom];
    state.refreshTimer = null;
    state.refreshRooms = false;
    state.refreshRoom = false;
    if (doRooms) await loadRooms();
    if (doRoom) await loadRoom();
  }, 80);
}

function connect() {
  const socket = new WebSocket("ws://" + location.host + "/api/live?token=" + enc(state.token));
  socket.onopen = () => {
    $("conn").textContent = "live";
    $("conn").className = "online";
    schedule(true, true);
  };
  socket.onmessage = (message) => {
    let event;
    try { event = JSON.parse(message.data); } catch (_) { return; }
    const here = event.room && event.room === state.current;
    switch (event.type) {
      case "typing":
        if (here && state.room) {
          state.room.typing = event.users.filter((u) => u !== state.room.me && u !== state.me.uri).map((u) => u.replace(/^mimi:\/\/([^/]+)\/u\/(.*)$/, "$2@$1"));
          $("typing").textContent = typingText(state.room.typing);
        }
        break;
      case "notice":
        toast(event.text);
        break;
      case "offline":
        $("conn").textContent = "provider unreachable, retrying";
        $("conn").className = "offline";
        break;
      case "online":
        $("conn").textContent = "live";
        $("conn").className = "online";
        break;
      case "hello":
        break;
      default:
        schedule(true, here || !event.room);
    }
  };
  socket.onclose = () => {
    $("conn").textContent = "disconnected from the app, retrying";
    $("conn").className = "offline";
    setTimeout(connect, 1000);
  };
}

// ---- people: contact requests, contacts, search ---------------------------------------------

function renderContacts(c) {
  const requests = $("requests");
  requests.replaceChildren();
  for (const r of c.requests) {
    const who = r.user + (r.room ? " (for " + r.room + ")" : "");
    requests.append(el("li", { class: "request" },
      el("span", { text: who + " asks to add you to rooms" }),
      el("button", { type: "button", text: "Accept", "aria-label": "Accept " + r.user,
        onclick: () => contactAction("accept", r.user) }),
      el("button", { type: "button", text: "Block", "aria-label": "Block " + r.user,
        onclick: () => contactAction("block", r.user) })));
  }
  $("requests-box").hidden = c.requests.length === 0;
  const contacts = $("contacts");
  contacts.replaceChildren();
  for (const k of c.contacts) {
    contacts.append(el("li", {},
      el("span", { text: k.user }),
      el("button", { type: "button", text: "Message privately", "aria-label": "Message " + k.user + " privately",
        onclick: () => messagePrivately(k.user) })));
  }
  for (const a of c.asked.filter((a) => a.status === "asked")) {
    contacts.append(el("li", { class: "hint", text: a.user + " (asked, no answer yet)" }));
  }
  $("no-contacts").hidden = contacts.children.length > 0;
}

async function loadContacts() {
  const c = await attempt("cannot load contacts", () => api("GET", "/api/contacts"));
  if (c) renderContacts(c);
}

async function contactAction(action, user) {
  const c = await attempt("cannot " + action + " " + user, () => api("POST", "/api/contacts/" + action, { user }));
  if (c) {
    renderContacts(c);
    if (action === "request") toast("asked " + user + " to be contacts");
  }
}

async function messagePrivately(user) {
  const done = await attempt("cannot message " + user, () => api("POST", "/api/dm", { user }));
  if (done) {
    await loadRooms();
    openRoom(done.room);
  }
}

async function findUsers(event) {
  event.preventDefault();
  const q = $("find-query").value;
  const provider = $("find-provider").value.trim();
  const path = "/api/users?q=" + enc(q) + (provider ? "&provider=" + enc(provider) : "");
  const found = await attempt("cannot search", () => api("GET", path));
  const list = $("found");
  list.replaceChildren();
  if (!found) return;
  if (found.users.length === 0) {
    list.append(el("li", { class: "hint", text: "nobody found at " + found.provider + " (" + found.code + ")" }));
    return;
  }
  for (const u of found.users) {
    const label = (u.display_name ? u.display_name + " " : "") + u.user;
    list.append(el("li", { class: "found" },
      el("span", { text: label }),
      el("button", { type: "button", text: "Ask to connect", "aria-label": "Ask " + u.user + " to be contacts",
        onclick: () => contactAction("request", u.user) }),
      el("button", { type: "button", text: "Message privately", "aria-label": "Message " + u.user + " privately",
        onclick: () => messagePrivately(u.user) }),
      state.current ? el("button", { type: "button", text: "Invite here", "aria-label": "Invite " + u.user + " to this room",
        onclick: async () => {
          const done = await attempt("cannot invite", () => api("POST", roomPath(state.current) + "/invite", { users: [u.user] }));
          if (done) { toast("invited " + done.invited.join(", ")); loadRoom(); }
        } }) : null));
  }
}

// ---- start ------------------------------------------------------------------------------

async function start() {
  const match = /[#&]token=([0-9a-f]+)/.exec(location.hash);
  if (match) {
    sessionStorage.setItem("mimi-token", match[1]);
    history.replaceState(null, "", location.pathname);
  }
  state.token = sessionStorage.getItem("mimi-token");
  if (!state.token) {
    $("conn").textContent = "no token: open the link that `mimi app` printed";
    return;
  }
  try {
    state.me = await api("GET", "/api/me");
  } catch (e) {
    $("conn").textContent = e.message;
    return;
  }
  $("me").textContent = state.me.user;
  $("create-room").addEventListener("submit", async (event) => {
    event.preventDefault();
    const input = $("new-room");
    const created = await attempt("cannot create the room", () => api("POST", "/api/rooms", { name: input.value }));
    if (created) {
      input.value = "";
      await loadRooms();
      openRoom(created.room);
    }
  });
  $("invite").addEventListener("submit", async (event) => {
    event.preventDefault();
    const input = $("invite-user");
    const users = input.value.split(/[\s,]+/).filter((u) => u);
    const done = await attempt("cannot invite", () => api("POST", roomPath(state.current) + "/invite", { users }));
    if (done) {
      input.value = "";
      toast("invited " + done.invited.join(", "));
      loadRoom();
    }
  });
  $("composer").addEventListener("submit", submit);
  $("text").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) submit(event);
    else if (event.key === "Escape") {
      state.reply = null;
      state.editing = null;
      setContext();
    }
  });
  $("text").addEventListener("input", typed);
  $("cancel-context").addEventListener("click", () => {
    state.reply = null;
    if (state.editing) $("text").value = "";
    state.editing = null;
    setContext();
  });
  $("file").addEventListener("change", upload);
  $("find-user").addEventListener("submit", findUsers);
  document.addEventListener("visibilitychange", markRead);
  // Expiring messages leave the page when their time comes.
  setInterval(() => { if (state.room && state.room.messages.some((m) => m.expires_at)) renderRoom(); }, 5000);
  await loadRooms();
  await loadContacts();
  // Contact requests arrive from other providers without a room event: look every 15 s.
  setInterval(loadContacts, 15000);
  connect();
}

document.addEventListener("DOMContentLoaded", start);
