import { useEffect, useState } from 'preact/hooks';
import { Route, Router, Switch } from 'wouter-preact';
import { useHashLocation } from 'wouter-preact/use-hash-location';
import { api, whenUnauthorized } from './api/client.js';
import { forgetToken, storedToken } from './api/session.js';
import type { Whoami } from './api/types.js';
import { AuthContext } from './auth.js';
import { Layout } from './components/layout.js';
import { AuditPage } from './pages/audit-page.js';
import { FlagPage } from './pages/flag-page.js';
import { FlagsPage } from './pages/flags-page.js';
import { HomePage } from './pages/home-page.js';
import { NewFlagPage } from './pages/new-flag-page.js';
import { ProposalsPage } from './pages/proposals-page.js';
import { RevisionEditorPage } from './pages/revision-editor-page.js';
import { SegmentPage } from './pages/segment-page.js';
import { SegmentsPage } from './pages/segments-page.js';
import { SignInPage } from './pages/sign-in-page.js';
import { WebhooksPage } from './pages/webhooks-page.js';

export function App() {
  const [whoami, setWhoami] = useState<Whoami | undefined>();
  const [checking, setChecking] = useState(storedToken() !== undefined);
  const [signedOutWhy, setSignedOutWhy] = useState<string | undefined>();

  const signOut = (why?: string) => {
    forgetToken();
    setWhoami(undefined);
    setSignedOutWhy(why);
  };

  useEffect(() => {
    whenUnauthorized((message) => signOut(`Signed out: ${message}`));
    const token = storedToken();
    if (token === undefined) return;
    api.whoami(token).then(
      (w) => {
        setWhoami(w);
        setChecking(false);
      },
      () => setChecking(false),
    );
  }, []);

  if (checking) return <p class="loading">Checking the stored token…</p>;
  if (whoami === undefined) return <SignInPage onSignedIn={setWhoami} notice={signedOutWhy} />;
  return (
    <AuthContext.Provider value={{ whoami, signOut: () => signOut() }}>
      <Router hook={useHashLocation}>
        <Layout>
          <Switch>
            <Route path="/" component={HomePage} />
            <Route path="/new-flag" component={NewFlagPage} />
            <Route path="/audit" component={AuditPage} />
            <Route path="/webhooks" component={WebhooksPage} />
            <Route path="/p/:project" component={FlagsPage} />
            <Route path="/p/:project/new-flag" component={NewFlagPage} />
            <Route path="/p/:project/segments" component={SegmentsPage} />
            <Route path="/p/:project/proposals" component={ProposalsPage} />
            <Route path="/p/:project/segments/:name" component={SegmentPage} />
            <Route path="/p/:project/flags/:type/:name" component={FlagPage} />
            <Route path="/p/:project/flags/:type/:name/edit" component={RevisionEditorPage} />
            <Route>
              <h1>Not found</h1>
              <p>This page does not exist.</p>
            </Route>
          </Switch>
        </Layout>
      </Router>
    </AuthContext.Provider>
  );
}
