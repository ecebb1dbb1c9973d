import { useState } from 'preact/hooks';
import { messageOf } from '../api/api-error.js';
import { api } from '../api/client.js';
import { storeToken } from '../api/session.js';
import type { Whoami } from '../api/types.js';

export function SignInPage({
  onSignedIn,
  notice,
}: {
  onSignedIn: (whoami: Whoami) => void;
  notice?: string | undefined;
}) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const whoami = await api.whoami(token.trim());
      storeToken(token.trim());
      onSignedIn(whoami);
    } catch (e) {
      setError(messageOf(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="sign-in">
      <h1>Vexil</h1>
      <p>Sign in with an API token (vexil token create). It is kept in this tab only, until you close it.</p>
      {notice !== undefined && <p class="notice">{notice}</p>}
      <form onSubmit={submit}>
        <label for="token">API token</label>
        <input
          id="token"
          type="password"
          autocomplete="off"
          required
          value={token}
          aria-invalid={error !== undefined}
          aria-describedby={error === undefined ? undefined : 'token-error'}
          onInput={(e) => setToken((e.currentTarget as HTMLInputElement).value)}
        />
        {error !== undefined && (
          <p id="token-error" class="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" disabled={busy}>
          Sign in
        </button>
      </form>
    </main>
  );
}
