import { useState } from 'preact/hooks';
import { checkEndpoint, type EdgeSettings } from '../backends';
import { Section } from './common';

/**
 * The Worker to sync with, and its bearer token. `pnpm start` hands both over in the address it
 * prints; they can also be typed here (mint a token with `pnpm --filter @eventkv/worker
 * token demo`).
 */
export const EdgeSettingsForm = ({
  settings,
  onSave,
}: {
  settings: EdgeSettings | undefined;
  onSave: (settings: EdgeSettings) => void;
}) => {
  const [endpoint, setEndpoint] = useState(settings?.endpoint ?? 'http://127.0.0.1:8787');
  const [token, setToken] = useState(settings?.token ?? '');
  const [problem, setProblem] = useState<string>();

  const form = (
    <form
      class="row"
      onSubmit={(e) => {
        e.preventDefault();
        const wrong =
          checkEndpoint(endpoint.trim()) ?? (token.trim() ? undefined : 'Paste a token.');
        setProblem(wrong);
        if (!wrong) onSave({ endpoint: endpoint.trim(), token: token.trim() });
      }}
    >
      <label>
        Endpoint URL
        <input
          name="endpoint"
          type="url"
          value={endpoint}
          onInput={(e) => setEndpoint(e.currentTarget.value)}
        />
      </label>
      <label>
        Token
        <input
          name="token"
          autoComplete="off"
          spellcheck={false}
          value={token}
          onInput={(e) => setToken(e.currentTarget.value)}
        />
      </label>
      <button type="submit">Connect</button>
      {problem && (
        <p class="problem rule" role="alert">
          {problem}
        </p>
      )}
    </form>
  );

  return settings ? (
    <details class="settings">
      <summary>Change the Worker or the token</summary>
      {form}
    </details>
  ) : (
    <Section title="Sync with a Worker">
      <p>
        Accounts live in this browser and work offline; with a Worker set up they also sync to it
        (Durable Objects), so other devices see them. <code>pnpm start</code> runs one locally and
        prints an address that fills this in.
      </p>
      {form}
    </Section>
  );
};
