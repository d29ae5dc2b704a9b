// The console shell: navigation, a hash router, and the token prompt.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, onUnauthorized, token } from './api.js';
import { Connectors } from './connectors.js';
import { html } from './html.js';
import { Overview } from './overview.js';
import { Queries, QueryPage, ViewPage } from './queries.js';
import { Sql } from './sql.js';
import { StreamPage } from './stream.js';
import { Streams } from './streams.js';
import { SubscriptionPage, Subscriptions } from './subscriptions.js';

const PAGES = [
  ['overview', 'Overview'],
  ['streams', 'Streams'],
  ['subscriptions', 'Subscriptions'],
  ['queries', 'Queries'],
  ['sql', 'SQL'],
  ['connectors', 'Connectors'],
];

function parseHash() {
  const parts = location.hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
  return { page: parts[0] || 'overview', arg: parts[1] };
}

function Page({ page, arg }) {
  if (page === 'streams' && arg) return html`<${StreamPage} name=${arg} />`;
  if (page === 'streams') return html`<${Streams} />`;
  if (page === 'subscriptions' && arg) return html`<${SubscriptionPage} id=${arg} />`;
  if (page === 'subscriptions') return html`<${Subscriptions} />`;
  if (page === 'queries' && arg) return html`<${QueryPage} id=${arg} />`;
  if (page === 'views' && arg) return html`<${ViewPage} name=${arg} />`;
  if (page === 'queries') return html`<${Queries} />`;
  if (page === 'sql') return html`<${Sql} />`;
  if (page === 'connectors') return html`<${Connectors} />`;
  return html`<${Overview} />`;
}

function TokenPrompt({ onDone, failed }) {
  const [value, setValue] = useState('');
  const submit = (e) => {
    e.preventDefault();
    token.set(value.trim());
    onDone();
  };
  return html`<main id="main" class="token">
    <h1>hstreamlite console</h1>
    <form onSubmit=${submit} aria-label="Server token">
      <p>This server needs its HTTP token (<code>--http-token</code>). It is kept for this tab only.</p>
      ${failed && html`<p class="error" role="alert">The server refused that token.</p>`}
      <label>Token <input type="password" name="token" autocomplete="current-password" required autofocus value=${value} onInput=${(e) => setValue(e.target.value)} /></label>
      <button type="submit">Open the console</button>
    </form>
  </main>`;
}

function App() {
  const [route, setRoute] = useState(parseHash());
  // undefined: checking; 'ok'; 'ask' (no or wrong token)
  const [auth, setAuth] = useState();
  const [failed, setFailed] = useState(false);
  const check = () =>
    api('/v1/overview')
      .then(() => setAuth('ok'))
      .catch((err) => {
        if (err.status === 401) {
          setFailed(token.get() !== '');
          token.clear();
          setAuth('ask');
        } else setAuth('ok');
      });
  useEffect(() => {
    const onHash = () => setRoute(parseHash());
    addEventListener('hashchange', onHash);
    check();
    const off = onUnauthorized(() => setAuth('ask'));
    return () => {
      removeEventListener('hashchange', onHash);
      off();
    };
  }, []);
  if (auth === undefined) return html`<p class="loading">Connecting…</p>`;
  if (auth === 'ask') return html`<${TokenPrompt} failed=${failed} onDone=${check} />`;
  const current = route.page === 'views' ? 'queries' : route.page;
  return html`<a class="skip" href="#main" onClick=${(e) => { e.preventDefault(); document.getElementById('main').focus(); }}>Skip to content</a>
    <header>
      <span class="brand">hstreamlite</span>
      <nav aria-label="Console sections">
        <ul>${PAGES.map(([id, label]) => html`<li><a href=${`#/${id}`} aria-current=${current === id ? 'page' : undefined}>${label}</a></li>`)}</ul>
      </nav>
    </header>
    <main id="main" tabindex="-1"><${Page} ...${route} /></main>`;
}

render(html`<${App} />`, document.getElementById('app'));
