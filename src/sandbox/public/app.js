// Countersign sandbox page: polls /sandbox/state and posts what the person does.
// Message and modal HTML comes from the server already escaped (src/sandbox/blocks.ts);
// everything built here uses textContent.
(() => {
  'use strict';
  const params = new URLSearchParams(location.search);
  const ui = {
    user: params.get('user') || localStorage.getItem('countersign.sandbox.user') || 'U0APPROVER1',
    conv: params.get('conv') || 'C0REFUNDS1',
    version: -1,
    modalKey: null,
  };
  const $ = (id) => document.getElementById(id);

  async function api(path, body) {
    const res = await fetch(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user: ui.user, ...body }) });
    return res.json().catch(() => ({}));
  }

  function renderSidebar(s) {
    const select = $('user');
    const ids = s.users.map((u) => u.id);
    if (!ids.includes(ui.user)) s.users.push({ id: ui.user, label: ui.user });
    select.replaceChildren(...s.users.map((u) => {
      const o = document.createElement('option');
      o.value = u.id; o.textContent = u.label; o.selected = u.id === ui.user;
      return o;
    }));
    if (s.availability) $('status').value = s.availability;
    const nav = $('conversations');
    const items = [];
    let section = '';
    for (const c of s.conversations) {
      const name = c.kind === 'home' ? 'Apps' : c.kind === 'dm' ? 'Direct messages' : 'Channels';
      if (name !== section) {
        section = name;
        const h = document.createElement('div');
        h.className = 'section'; h.textContent = name;
        items.push(h);
      }
      const a = document.createElement('a');
      a.href = `?user=${encodeURIComponent(ui.user)}&conv=${encodeURIComponent(c.id)}`;
      a.dataset.conv = c.id;
      a.className = c.id === s.conv ? 'active' : '';
      a.textContent = c.label;
      if (c.count) {
        const n = document.createElement('span');
        n.className = 'count'; n.textContent = String(c.count);
        a.append(n);
      }
      items.push(a);
    }
    nav.replaceChildren(...items);
    $('activity').replaceChildren(...s.activity.map((line) => {
      const li = document.createElement('li');
      li.textContent = line;
      return li;
    }));
  }

  function renderModal(modal) {
    const layer = $('modal-layer');
    const key = modal ? modal.key : null;
    if (key === ui.modalKey) return;
    ui.modalKey = key;
    if (!modal) {
      layer.hidden = true;
      layer.replaceChildren();
      return;
    }
    layer.innerHTML = modal.html; // server-escaped
    layer.hidden = false;
    const first = layer.querySelector('textarea, input');
    if (first) first.focus();
  }

  function render(s) {
    ui.conv = s.conv;
    ui.version = s.version;
    renderSidebar(s);
    $('title').textContent = s.title;
    const pane = $('pane');
    const atBottom = pane.scrollHeight - pane.scrollTop - pane.clientHeight < 40;
    pane.innerHTML = s.html; // server-escaped
    if (atBottom) pane.scrollTop = pane.scrollHeight;
    renderModal(s.modal);
  }

  let polling = false;
  async function poll() {
    if (polling) return;
    polling = true;
    try {
      const q = new URLSearchParams({ user: ui.user, conv: ui.conv, since: String(ui.version) });
      const s = await (await fetch(`/sandbox/state?${q}`)).json();
      if (!s.unchanged) render(s);
    } catch {
      // the sandbox restarted or is stopping: try again on the next tick
    } finally {
      polling = false;
    }
  }
  const refresh = () => { ui.version = -1; return poll(); };

  function go(next) {
    Object.assign(ui, next);
    localStorage.setItem('countersign.sandbox.user', ui.user);
    history.replaceState(null, '', `?user=${encodeURIComponent(ui.user)}&conv=${encodeURIComponent(ui.conv)}`);
    ui.modalKey = undefined; // neither a modal's key nor null: the next state shows or hides the modal
    if (ui.conv === 'home' && (next.conv === 'home' || next.user)) void api('/sandbox/home', {});
    void refresh();
  }

  $('user').addEventListener('change', (e) => go({ user: e.target.value }));
  $('status').addEventListener('change', (e) => void api('/sandbox/status', { status: e.target.value }));
  $('conversations').addEventListener('click', (e) => {
    const a = e.target.closest('a[data-conv]');
    if (!a) return;
    e.preventDefault();
    go({ conv: a.dataset.conv });
  });

  const sendClick = async (d) => {
    await api('/sandbox/click', { kind: d.kind, channel: d.channel, ts: d.ts, viewId: d.view, blockId: d.block, actionId: d.action, option: d.option });
    return refresh();
  };

  // A button with a confirm object: Slack shows its dialog first and sends the click only on confirm.
  function askConfirm(btn) {
    const template = btn.nextElementSibling;
    if (!template || !template.matches('template.confirm')) return false;
    const layer = $('confirm-layer');
    layer.replaceChildren(template.content.cloneNode(true)); // server-escaped
    layer.hidden = false;
    const d = { ...btn.dataset };
    layer.querySelector('[data-confirm-ok]').addEventListener('click', async () => {
      layer.hidden = true;
      layer.replaceChildren();
      await sendClick(d);
    }, { once: true });
    layer.querySelector('[data-confirm-deny]').addEventListener('click', () => {
      layer.hidden = true;
      layer.replaceChildren();
    }, { once: true });
    layer.querySelector('[data-confirm-ok]').focus();
    return true;
  }

  document.addEventListener('click', async (e) => {
    const btn = e.target.closest('button[data-action]');
    if (btn) {
      if (btn.dataset.confirm && askConfirm(btn)) return;
      btn.disabled = true;
      await sendClick(btn.dataset);
      btn.disabled = false;
      return;
    }
    const close = e.target.closest('button[data-close]');
    if (close) {
      await api('/sandbox/close', { viewId: close.dataset.close });
      return void refresh();
    }
  });

  $('modal-layer').addEventListener('submit', async (e) => {
    e.preventDefault();
    const form = e.target;
    const values = {};
    for (const el of form.querySelectorAll('[data-block][data-action]')) {
      if (el.tagName === 'BUTTON') continue;
      (values[el.dataset.block] ??= {})[el.dataset.action] = el.value;
    }
    form.querySelectorAll('.field-error').forEach((el) => { el.textContent = ''; });
    const submitBtn = form.querySelector('button[type=submit]');
    if (submitBtn) submitBtn.disabled = true;
    const out = await api('/sandbox/submit', { viewId: form.dataset.view, values });
    if (submitBtn) submitBtn.disabled = false;
    for (const [block, message] of Object.entries(out.errors || {})) {
      const el = form.querySelector(`[data-error-for="${CSS.escape(block)}"]`);
      if (el) el.textContent = String(message);
    }
    void refresh();
  });

  $('composer').addEventListener('submit', async (e) => {
    e.preventDefault();
    const input = $('command');
    const out = await api('/sandbox/command', { channel: ui.conv, text: input.value });
    $('composer-error').textContent = out.error || (out.status && out.status !== 200 ? `The bot answered ${out.status}` : '');
    if (!out.error) input.value = '';
    void refresh();
  });

  // Escape closes what is on top, as in Slack: a confirm dialog, else the top modal.
  document.addEventListener('keydown', (e) => {
    if (e.key !== 'Escape') return;
    const deny = $('confirm-layer').querySelector('[data-confirm-deny]');
    const close = $('modal-layer').querySelector('button[data-close]');
    if (deny) deny.click();
    else if (close) close.click();
  });

  // Loading the page closes the acting person's modals, as reloading Slack does; then it opens
  // where the address says (App Home included, which sends app_home_opened).
  void api('/sandbox/close', { all: true }).finally(() => {
    go({ conv: ui.conv });
    setInterval(poll, 500);
  });
})();
