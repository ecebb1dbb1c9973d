// The example page of docs/in-the-browser.md: one flag read through @vexil/web (React's
// useFlag, over bulk OFREP and over local evaluation), through Vexil's OpenFeature web
// provider, and through the official OFREP web provider — all kept current without a
// reload. Query parameters: service, project, flag, user, token (a read token; a real
// application builds it in, e.g. import.meta.env.VITE_VEXIL_TOKEN).
import { OFREPWebProvider } from '@openfeature/ofrep-web-provider';
import { OpenFeature, ProviderEvents } from '@openfeature/web-sdk';
import { VexilClient } from '@vexil/web';
import { localEvaluation } from '@vexil/web/local';
import { VexilWebProvider } from '@vexil/web/openfeature';
import { useFlag, VexilProvider } from '@vexil/web/react';
import { createElement as h } from 'react';
import { createRoot } from 'react-dom/client';

const params = new URLSearchParams(location.search);
const service = params.get('service') ?? 'http://localhost:8080';
const project = params.get('project') ?? 'demo';
const flag = params.get('flag') ?? 'llm_provider';
const user = params.get('user') ?? 'A123456';
const token = params.get('token') ?? undefined;
const DEFAULT = '(default)';

for (const [id, text] of [
  ['flag', flag],
  ['project', project],
  ['user', user],
]) {
  document.getElementById(id)!.textContent = text;
}

// ---- @vexil/web with React: one client per way of evaluating, created once.
const context = { targetingKey: user };
const overOfrep = new VexilClient({ baseUrl: service, project, token, context });
const local = new VexilClient({ baseUrl: service, project, token, context, evaluation: localEvaluation });

function FlagValue({ testId }: { testId: string }) {
  const value = useFlag(flag, DEFAULT);
  return h('dd', { 'data-testid': testId }, value);
}

createRoot(document.getElementById('react-root')!).render([
  h('dt', { key: 'a' }, '@vexil/web over bulk OFREP (React useFlag)'),
  h(VexilProvider, { key: 'b', client: overOfrep }, h(FlagValue, { testId: 'vexil-ofrep' })),
  h('dt', { key: 'c' }, '@vexil/web evaluating locally from the snapshot (React useFlag)'),
  h(VexilProvider, { key: 'd', client: local }, h(FlagValue, { testId: 'vexil-local' })),
]);

// ---- OpenFeature's web SDK: Vexil's provider and the official OFREP provider, one domain each.
function showWithOpenFeature(domain: string, testId: string): void {
  const client = OpenFeature.getClient(domain);
  const element = document.querySelector(`[data-testid="${testId}"]`)!;
  const render = () => {
    element.textContent = client.getStringValue(flag, DEFAULT);
  };
  client.addHandler(ProviderEvents.Ready, render);
  client.addHandler(ProviderEvents.ConfigurationChanged, render);
  render();
}

const authorization: [string, string][] = token === undefined ? [] : [['Authorization', `Bearer ${token}`]];
// OFREP names the project in the context (project_name); Vexil's provider knows it from its options.
void OpenFeature.setProviderAndWait(
  'ofrep',
  new OFREPWebProvider({
    baseUrl: service,
    headers: authorization,
    pollInterval: 200,
    changeDetection: 'polling',
    cacheMode: 'disabled',
  }),
  { targetingKey: user, project_name: project },
);
void OpenFeature.setProviderAndWait('vexil', new VexilWebProvider({ baseUrl: service, project, token }), {
  targetingKey: user,
});
showWithOpenFeature('vexil', 'vexil-openfeature');
showWithOpenFeature('ofrep', 'ofrep-web-provider');
