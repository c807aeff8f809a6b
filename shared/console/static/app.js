// The Certified Pick-up console: a small hash-routed page over the onboarding API (contract §11,
// §13). No framework: every view renders plain HTML from templates, every action is a form or a
// button, so the whole console works by keyboard. The session token lives in sessionStorage (gone
// when the tab closes) and is sent as a bearer token; links from e-mails carry their tokens after
// '#', which the browser never sends to a server.
'use strict';

const api = (path) => new URL('../onboarding/v1' + path, document.baseURI).toString();
const main = () => document.getElementById('main');

function session() {
  const raw = sessionStorage.getItem('session');
  if (!raw) return null;
  const s = JSON.parse(raw);
  if (Date.now() > s.expiresAt) { sessionStorage.removeItem('session'); return null; }
  return s;
}

// The token's claims, for what to show (the API decides what is allowed).
function claims(token) {
  try { return JSON.parse(atob(token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/'))); } catch (e) { return {}; }
}

function esc(s) {
  return String(s == null ? '' : s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
}

function say(text) {
  const st = document.getElementById('status');
  st.textContent = text;
  st.className = text ? 'on' : '';
}

async function call(method, path, body) {
  const headers = { 'Content-Type': 'application/json' };
  const s = session();
  if (s) headers.Authorization = 'Bearer ' + s.token;
  const resp = await fetch(api(path), { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  let data = null;
  try { data = await resp.json(); } catch (e) { /* no body */ }
  if (!resp.ok) {
    const fields = data && data.errors ? Object.entries(data.errors).map(([f, m]) => f + ': ' + [].concat(m).join(' ')) : [];
    const err = new Error([(data && data.detail) || ('The request failed (' + resp.status + ').')].concat(fields).join(' '));
    err.status = resp.status;
    throw err;
  }
  return data;
}

function params() {
  const q = location.hash.split('?')[1] || '';
  return new URLSearchParams(q);
}

function render(html, focus) {
  const m = main();
  m.innerHTML = html;
  const target = focus ? m.querySelector(focus) : m.querySelector('h1');
  if (target) { if (!target.hasAttribute('tabindex') && target.tagName === 'H1') target.setAttribute('tabindex', '-1'); target.focus(); }
}

function showError(form, err) {
  let p = form.querySelector('.error');
  if (!p) { p = document.createElement('p'); p.className = 'error'; p.setAttribute('role', 'alert'); form.prepend(p); }
  p.textContent = err.message;
}

function onSubmit(selector, handler) {
  const form = main().querySelector(selector);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const button = form.querySelector('button[type=submit]');
    button.disabled = true;
    try { await handler(new FormData(form), form); } catch (err) { showError(form, err); } finally { button.disabled = false; }
  });
}

function nav() {
  const s = session();
  const items = [];
  if (s) {
    const c = claims(s.token);
    const roles = c.roles || [];
    if (roles[0] === 'Admin') items.push(['#/org', 'My organisation'], ['#/integrations', 'Integrations']);
    if (roles.includes('CommunityAdmin')) items.push(['#/community', 'Community']);
    if (roles.includes('AssetManager')) items.push(['#/subscription-approvals', 'Subscription approvals']);
    items.push(['#/sign-out', 'Sign out']);
  } else {
    items.push(['#/sign-in', 'Sign in']);
  }
  document.getElementById('nav').innerHTML = items.map(([h, t]) => '<li><a href="' + h + '">' + esc(t) + '</a></li>').join('');
}

const views = {
  'sign-in': () => {
    render('<h1>Sign in</h1><form id="f1"><label>E-mail <input name="email" type="email" autocomplete="username" required></label>' +
      '<label>Password <input name="password" type="password" autocomplete="current-password" required maxlength="128"></label>' +
      '<button type="submit">Continue</button></form>');
    onSubmit('#f1', async (fd) => {
      const started = await call('POST', '/sign-in', { email: fd.get('email'), password: fd.get('password') });
      render('<h1>Enter the code</h1><p>If the e-mail and password are right, a 6-digit code is on its way to your mailbox. It is valid for 10 minutes.</p>' +
        '<form id="f2"><label>Code <input name="code" inputmode="numeric" pattern="[0-9]{6}" autocomplete="one-time-code" required></label>' +
        '<button type="submit">Sign in</button></form>', 'input[name=code]');
      onSubmit('#f2', async (fd2) => {
        const s = await call('POST', '/sign-in/' + encodeURIComponent(started.challengeId), { code: fd2.get('code') });
        sessionStorage.setItem('session', JSON.stringify({ token: s.accessToken, entityId: s.entityId, userId: s.userId, expiresAt: Date.now() + s.expiresIn * 1000 }));
        const roles = claims(s.accessToken).roles || [];
        location.hash = roles[0] === 'Admin' ? '#/org' : roles.includes('CommunityAdmin') ? '#/community' : '#/home';
      });
    });
  },

  'sign-out': () => { sessionStorage.removeItem('session'); location.hash = '#/sign-in'; },

  home: () => render('<h1>Welcome</h1><p>You are signed in. Your administrator manages your company\'s people and subscriptions.</p>'),

  register: () => {
    const token = params().get('invitation') || '';
    render('<h1>Register your company</h1><p class="hint">Enter the same company information as your community membership, so that the community administrator can approve it.</p>' +
      '<form id="reg"><h2>You</h2>' +
      '<label>E-mail <input name="email" type="email" autocomplete="email" required></label>' +
      '<label>First name <input name="firstName" autocomplete="given-name" required maxlength="70"></label>' +
      '<label>Last name <input name="lastName" autocomplete="family-name" required maxlength="70"></label>' +
      '<h2>Company</h2>' +
      '<label>Company name <input name="name" autocomplete="organization" required maxlength="70"></label>' +
      '<label>VAT number <input name="vat" required placeholder="BE0123456749"></label>' +
      '<label>Role <select name="role"><option value="ReleaseParty">Forwarder (release party)</option><option value="TransportOperator">Transport operator</option><option value="ShippingAgent">Shipping agent</option></select></label>' +
      '<h2>Headquarters</h2>' +
      '<label>Street <input name="street" autocomplete="street-address" required></label>' +
      '<label>Postal code <input name="postalCode" autocomplete="postal-code" required></label>' +
      '<label>City <input name="city" autocomplete="address-level2" required></label>' +
      '<label>Country (two letters) <input name="country" autocomplete="country" required maxlength="2" value="BE"></label>' +
      '<button type="submit">Next</button></form>');
    onSubmit('#reg', async (fd) => {
      const email = fd.get('email');
      await call('POST', '/registrations', {
        invitationToken: token, email, firstName: fd.get('firstName'), lastName: fd.get('lastName'),
        company: { name: fd.get('name'), vat: fd.get('vat'), roles: [fd.get('role')], addresses: [{ addressTypeCode: '1', street: fd.get('street'),
          postalCode: fd.get('postalCode'), city: fd.get('city'), country: String(fd.get('country')).toUpperCase(), contactName: fd.get('firstName') + ' ' + fd.get('lastName'), contactEmail: email }] },
      });
      render('<h1>Check your e-mail</h1><p>We sent a link to ' + esc(email) + '. Follow it to confirm your address and choose your password.</p>');
    });
  },

  confirm: () => {
    const p = params();
    render('<h1>Choose your password</h1><p class="hint">At least 15 characters; a few unrelated words work well. Common passwords are refused.</p>' +
      '<form id="conf"><label>Password <input name="password" type="password" autocomplete="new-password" required minlength="15" maxlength="128"></label>' +
      '<label class="check"><input type="checkbox" name="general" required> I accept the general terms (version 2026-01).</label>' +
      '<label class="check"><input type="checkbox" name="community" required> I accept the community terms (version 2026-01).</label>' +
      '<button type="submit">Finish</button></form>');
    onSubmit('#conf', async (fd) => {
      await call('POST', '/registrations/' + encodeURIComponent(p.get('registration')) + '/confirm', {
        token: p.get('token'), password: fd.get('password'),
        acceptedTerms: [{ name: 'General', version: '2026-01' }, { name: 'Community', version: '2026-01' }],
      });
      render('<h1>Registration complete</h1><p>Your company is registered and you are its administrator. A community administrator will review the membership; you will hear by e-mail.</p><p><a href="#/sign-in">Sign in</a></p>');
    });
  },

  'set-password': () => {
    const p = params();
    render('<h1>Choose your password</h1><form id="pw"><label>Password <input name="password" type="password" autocomplete="new-password" required minlength="15" maxlength="128"></label><button type="submit">Save</button></form>');
    onSubmit('#pw', async (fd) => {
      await call('POST', '/people/' + encodeURIComponent(p.get('user')) + '/password', { token: p.get('token'), password: fd.get('password') });
      render('<h1>Password saved</h1><p><a href="#/sign-in">Sign in</a></p>');
    });
  },

  org: async () => {
    const [people, subs, market] = await Promise.all([call('GET', '/people'), call('GET', '/subscriptions'), call('GET', '/apis')]);
    const subscribed = new Set(subs.filter((s) => s.status === 'Approved' || s.status === 'PendingApproval').map((s) => s.api));
    const open = market.apis.filter((a) => !subscribed.has(a.id));
    render('<h1>My organisation</h1>' +
      '<h2>Subscriptions (' + esc(market.environment) + ')</h2><div class="table"><table><thead><tr><th scope="col">API</th><th scope="col">Status</th><th scope="col">Keys</th></tr></thead><tbody>' +
      subs.map((s) => '<tr><td>' + esc(s.api) + '</td><td>' + esc(s.status) + '</td><td>' +
        (s.status === 'Approved' ? '<button type="button" class="secondary" data-keys="' + esc(s.api) + '">Show keys</button><div id="keys-' + esc(s.api) + '"></div>' : '') + '</td></tr>').join('') +
      '</tbody></table></div>' +
      (open.length ? '<form id="sub"><label>Subscribe to <select name="api">' + open.map((a) => '<option value="' + esc(a.id) + '" data-terms="' + esc(a.termsVersion) + '">' + esc(a.name) + (a.requiresApproval ? ' (needs approval)' : '') + '</option>').join('') +
        '</select></label><label class="check"><input type="checkbox" name="terms" required> I accept the API\'s terms.</label><button type="submit">Subscribe</button></form>' : '') +
      '<h2>People</h2><div class="table"><table><thead><tr><th scope="col">Name</th><th scope="col">E-mail</th><th scope="col">Role</th><th scope="col">Status</th></tr></thead><tbody>' +
      people.map((p) => '<tr><td>' + esc(p.firstName + ' ' + p.lastName) + '</td><td>' + esc(p.email) + '</td><td>' + esc(p.role) + '</td><td>' + esc(p.status) + '</td></tr>').join('') +
      '</tbody></table></div>' +
      '<form id="invite"><h2>Invite a person</h2><label>E-mail <input name="email" type="email" required></label>' +
      '<label>First name <input name="firstName" required maxlength="70"></label><label>Last name <input name="lastName" required maxlength="70"></label>' +
      '<label>Role <select name="role"><option>User</option><option>Admin</option></select></label><button type="submit">Invite</button></form>');
    main().querySelectorAll('button[data-keys]').forEach((b) => b.addEventListener('click', () => showKeys(b.dataset.keys)));
    if (open.length) {
      onSubmit('#sub', async (fd, form) => {
        const opt = form.querySelector('select[name=api]').selectedOptions[0];
        const s = await call('POST', '/subscriptions', { api: fd.get('api'), environment: market.environment, termsVersion: opt.dataset.terms });
        say('Subscription ' + s.status + '.');
        views.org();
      });
    }
    onSubmit('#invite', async (fd) => {
      await call('POST', '/people', { email: fd.get('email'), firstName: fd.get('firstName'), lastName: fd.get('lastName'), role: fd.get('role') });
      say('Invitation sent to ' + fd.get('email') + '.');
      views.org();
    });
  },

  integrations: async () => {
    const [clients, channels] = await Promise.all([call('GET', '/clients'), call('GET', '/channels')]);
    render('<h1>Integrations</h1><h2>API clients</h2><p class="hint">Support issues clients on request; their secrets are shown once, to support, never here.</p>' +
      (clients.length ? '<div class="table"><table><thead><tr><th scope="col">Client id</th><th scope="col">Created</th></tr></thead><tbody>' +
        clients.map((c) => '<tr><td><code>' + esc(c.clientId) + '</code></td><td>' + esc(c.createdAt) + '</td></tr>').join('') + '</tbody></table></div>' : '<p>None yet.</p>') +
      '<h2>Notification channels</h2>' + (channels.length ? '<div class="table"><table><thead><tr><th scope="col">Name</th><th scope="col">Address</th><th scope="col">Status</th><th scope="col">Delivery log</th></tr></thead><tbody>' +
        channels.map((c) => '<tr><td>' + esc(c.name) + '</td><td>' + esc(c.url) + '</td><td>' + esc(c.status) + '</td><td><button type="button" class="secondary" data-log="' + esc(c.channelId) + '">Show</button></td></tr>').join('') +
        '</tbody></table></div><div id="log"></div>' : '<p>None: create them with the API (POST /certified-pickup/v1/notification-channels).</p>'));
    main().querySelectorAll('button[data-log]').forEach((b) => b.addEventListener('click', async () => {
      try {
        const log = await call('GET', '/channels/' + encodeURIComponent(b.dataset.log) + '/deliveries');
        document.getElementById('log').innerHTML = '<h2>Deliveries (newest first)</h2>' + (log.length ? '<div class="table"><table><thead><tr><th scope="col">Time</th><th scope="col">Reference</th><th scope="col">Attempt</th><th scope="col">Outcome</th><th scope="col">Status</th></tr></thead><tbody>' +
          log.map((a) => '<tr><td>' + esc(a.time) + '</td><td>' + esc(a.publicReferenceId) + '</td><td>' + esc(a.attempt) + '</td><td>' + esc(a.outcome) + '</td><td>' + esc(a.status == null ? a.error : a.status) + '</td></tr>').join('') +
          '</tbody></table></div>' : '<p>No deliveries in the last days.</p>');
      } catch (e) { say(e.message); }
    }));
  },

  community: async () => {
    const pending = await call('GET', '/memberships?status=PendingApproval');
    render('<h1>Community</h1><form id="inv"><h2>Invite a company</h2><label>E-mail of the person who registers it <input name="email" type="email" required></label><button type="submit">Send invitation</button></form>' +
      '<h2>Memberships waiting for approval</h2>' + (pending.length ? '<div class="table"><table><thead><tr><th scope="col">Company</th><th scope="col">Id</th><th scope="col">Decision</th></tr></thead><tbody>' +
      pending.map((m) => '<tr><td>' + esc(m.name) + '</td><td>' + esc(m.entityId) + '</td><td><div class="row"><button type="button" data-approve="' + esc(m.entityId) + '">Approve</button>' +
        '<label>Reason <input data-reason="' + esc(m.entityId) + '" maxlength="500"></label><button type="button" class="secondary" data-reject="' + esc(m.entityId) + '">Reject</button></div></td></tr>').join('') +
      '</tbody></table></div>' : '<p>None.</p>'));
    onSubmit('#inv', async (fd) => {
      await call('POST', '/invitations', { email: fd.get('email'), community: 'CPu' });
      say('Invitation sent to ' + fd.get('email') + '.');
    });
    main().querySelectorAll('button[data-approve]').forEach((b) => b.addEventListener('click', () => decide(b.dataset.approve, 'Approve', '')));
    main().querySelectorAll('button[data-reject]').forEach((b) => b.addEventListener('click', () => decide(b.dataset.reject, 'Reject', main().querySelector('input[data-reason="' + b.dataset.reject + '"]').value)));
  },

  'subscription-approvals': async () => {
    const pending = await call('GET', '/subscriptions?status=PendingApproval');
    render('<h1>Subscription approvals</h1>' + (pending.length ? '<ul>' + pending.map((s) => '<li>' + esc(s.entityId) + ' — ' + esc(s.api) +
      ' <button type="button" data-api="' + esc(s.api) + '" data-entity="' + esc(s.entityId) + '">Approve</button></li>').join('') + '</ul>' : '<p>None.</p>'));
    main().querySelectorAll('button[data-api]').forEach((b) => b.addEventListener('click', async () => {
      try { await call('POST', '/subscriptions/' + encodeURIComponent(b.dataset.api) + '/decisions/' + encodeURIComponent(b.dataset.entity), { decision: 'Approve' }); say('Approved.'); views['subscription-approvals'](); } catch (e) { say(e.message); }
    }));
  },
};

async function decide(entityId, decision, reason) {
  try {
    await call('POST', '/memberships/' + encodeURIComponent(entityId) + '/decision', reason ? { decision, reason } : { decision });
    say(decision === 'Approve' ? 'Approved.' : 'Rejected.');
    views.community();
  } catch (e) { say(e.message); }
}

async function showKeys(apiId) {
  const box = document.getElementById('keys-' + apiId);
  const draw = (k) => {
    box.innerHTML = ['primary', 'secondary'].map((which) => {
      const value = k[which + 'Key'];
      return '<div class="row"><span>' + which + ':</span> <code class="key" id="key-' + which + '">' + esc(value) + '</code>' +
        '<button type="button" class="secondary" data-copy="' + which + '" aria-label="Copy the ' + which + ' key">Copy</button>' +
        '<button type="button" class="secondary" data-regenerate="' + which + '" aria-label="Regenerate the ' + which + ' key">Regenerate</button></div>';
    }).join('');
    box.querySelectorAll('button[data-copy]').forEach((b) => b.addEventListener('click', async () => {
      const value = document.getElementById('key-' + b.dataset.copy).textContent;
      try { await navigator.clipboard.writeText(value); say('The ' + b.dataset.copy + ' key is copied.'); } catch (e) { say('Copying is not allowed here: select the key and copy it.'); }
    }));
    box.querySelectorAll('button[data-regenerate]').forEach((b) => b.addEventListener('click', async () => {
      try {
        const next = await call('POST', '/subscriptions/' + encodeURIComponent(apiId) + '/keys/' + b.dataset.regenerate + '/regenerate');
        draw(next);
        say('The ' + b.dataset.regenerate + ' key is new; the old one stops working within six minutes.');
      } catch (e) { say(e.message); }
    }));
  };
  try { draw(await call('GET', '/subscriptions/' + encodeURIComponent(apiId) + '/keys')); } catch (e) { say(e.message); }
}

async function route() {
  say('');
  const name = (location.hash.replace(/^#\//, '').split('?')[0]) || (session() ? 'home' : 'sign-in');
  const view = views[name];
  nav();
  if (!view) { render('<h1>Not found</h1><p><a href="#/sign-in">Sign in</a></p>'); return; }
  try { await view(); } catch (e) {
    if (e.status === 401) { sessionStorage.removeItem('session'); location.hash = '#/sign-in'; return; }
    render('<h1>Something went wrong</h1><p class="error" role="alert">' + esc(e.message) + '</p>');
  }
}

window.addEventListener('hashchange', route);
window.addEventListener('DOMContentLoaded', route);
