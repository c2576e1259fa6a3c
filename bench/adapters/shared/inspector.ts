/**
 * The CPU profiler of workerd's inspector (Chrome DevTools protocol), for the benches that
 * look at where a Worker's time goes.
 */
import WebSocket from 'ws';

export interface Profile {
  readonly nodes: {
    readonly id: number;
    readonly callFrame: { functionName: string; url: string; lineNumber: number };
    readonly children?: number[];
  }[];
  readonly samples: number[];
  readonly timeDeltas: number[];
}

/** Talks to one inspector target: `call(method, params)` resolves with the result. */
export const inspect = async (target: string) => {
  const ws = new WebSocket(target);
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  let id = 0;
  const pending = new Map<number, (result: unknown) => void>();
  ws.on('message', (data) => {
    const message = JSON.parse(String(data)) as { id?: number; result?: unknown };
    if (message.id !== undefined) pending.get(message.id)?.(message.result);
  });
  return {
    call: (method: string, params: object = {}) =>
      new Promise<unknown>((resolve) => {
        pending.set(++id, resolve);
        ws.send(JSON.stringify({ id, method, params }));
      }),
    close: () => ws.close(),
  };
};

/**
 * The inspector target of the Worker named `name` (workerd titles targets
 * `...:<name>`), profiling while `work` runs, sampled every `interval` µs.
 */
export const profileWhile = async <T>(
  inspector: URL,
  name: string,
  interval: number,
  work: () => Promise<T>,
): Promise<{ profile: Profile; result: T }> => {
  const list = await fetch(new URL('/json', inspector.href.replace(/^ws/, 'http')));
  const targets = (await list.json()) as { title: string; webSocketDebuggerUrl: string }[];
  const target = targets.find((t) => t.title.endsWith(`:${name}`));
  if (target === undefined) {
    throw new Error(`no inspector target for ${name} (${targets.map((t) => t.title).join(', ')})`);
  }
  const session = await inspect(target.webSocketDebuggerUrl);
  try {
    await session.call('Profiler.enable');
    await session.call('Profiler.setSamplingInterval', { interval });
    await session.call('Profiler.start');
    const result = await work();
    const { profile } = (await session.call('Profiler.stop')) as { profile: Profile };
    return { profile, result };
  } finally {
    session.close();
  }
};

/**
 * Where a bundle's line comes from: esbuild starts each module with a `// path` comment
 * (node_modules paths cut to the package).
 */
export const moduleOfLine = (script: string): ((line: number) => string) => {
  const starts: { line: number; file: string }[] = [];
  script.split('\n').forEach((text, line) => {
    const module = /^\/\/ (\S+\.[mc]?[jt]s)$/.exec(text);
    if (module) starts.push({ line, file: module[1]!.replace(/^.*node_modules\//, '') });
  });
  return (line) => {
    let file = '(bundle)';
    for (const start of starts) {
      if (start.line > line) break;
      file = start.file;
    }
    return file;
  };
};
