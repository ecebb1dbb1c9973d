import { render } from 'preact';
import { admin, prefetch, projectPath } from './api/client.js';
import { storedToken } from './api/session.js';
import { App } from './app.js';
import './styles.css';
import 'uplot/dist/uPlot.min.css';

// A signed-in tab opened on a project's flags page asks for what it shows at once, beside the token check.
if (storedToken() !== undefined) {
  prefetch(`${admin}/projects`);
  const flagsPage = /^#\/p\/([^/?#]+)$/.exec(window.location.hash);
  if (flagsPage) prefetch(`${projectPath(decodeURIComponent(flagsPage[1]!))}/flag-summaries`);
}

render(<App />, document.getElementById('app')!);
