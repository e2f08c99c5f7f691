import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SandboxStack, startStack } from '#sandbox/stack.js';
import { postIdentity, terminalEventOf } from '../e2e/harness.js';

let stack: SandboxStack;
beforeAll(async () => {
  stack = await startStack({ apiPort: 0 });
  const verified = terminalEventOf(stack, 'routes.example.com');
  const failed = terminalEventOf(stack, 'routes.example.org');
  await postIdentity(stack, { EmailIdentity: 'routes.example.com' });
  await postIdentity(stack, { EmailIdentity: 'routes.example.org', Dns: { Provider: 'route53' } });
  await Promise.all([verified, failed]);
});
afterAll(async () => {
  await stack?.stop();
});

const get = async (path: string) => {
  const response = await fetch(`${stack.apiUrl}${path}`);
  return {
    status: response.status,
    type: response.headers.get('content-type'),
    text: await response.text(),
  };
};

describe("the console's routes", () => {
  it('serve the page, its stylesheet and its script bundled from TypeScript', async () => {
    const page = await get('/sandbox/console');
    const css = await get('/sandbox/console/console.css');
    const script = await get('/sandbox/console/app.js');

    expect(page).toMatchObject({ status: 200, type: 'text/html; charset=utf-8' });
    expect(page.text).toContain('<script type="module" src="/sandbox/console/app.js">');
    expect(css).toMatchObject({ status: 200, type: 'text/css; charset=utf-8' });
    expect(script).toMatchObject({ status: 200, type: 'text/javascript; charset=utf-8' });
    expect(script.text).toContain('function layoutStateMachine(');
    expect(script.text).not.toMatch(/^import /m);
    expect((await get('/sandbox/console/secrets.json')).status).toBe(404);
  });

  it('serve the definition as deployed, with its substitutions applied', async () => {
    const { status, text } = await get('/sandbox/state-machine');
    const body = JSON.parse(text) as {
      name: string;
      definition: { StartAt: string; States: Record<string, unknown> };
    };

    expect(status).toBe(200);
    expect(body.name).toBe('VerifyEmailIdentity');
    expect(body.definition.StartAt).toBe('ReadRequest');
    expect(text).not.toContain('${');
  });

  it('list the executions newest first, with a limit, and filter them by status and identity', async () => {
    const all = JSON.parse((await get('/sandbox/executions')).text) as {
      executions: {
        identity: string;
        status: string;
        error: string | null;
        cause: string | null;
      }[];
      total: number;
    };
    const newest = JSON.parse((await get('/sandbox/executions?limit=1')).text) as typeof all;
    const failed = JSON.parse((await get('/sandbox/executions?status=FAILED')).text) as typeof all;

    expect(all.total).toBe(2);
    expect(all.executions.map((run) => run.identity)).toEqual([
      'routes.example.org',
      'routes.example.com',
    ]);
    expect(newest.executions).toHaveLength(1);
    expect(newest.total).toBe(2);
    expect(failed.executions).toEqual([
      expect.objectContaining({
        identity: 'routes.example.org',
        status: 'FAILED',
        error: 'DNS_PUBLISH_FAILED',
        cause: expect.stringContaining('no route53 zone holds routes.example.org'),
      }),
    ]);
  });

  it("give one execution's states, transitions and events, and 404 for a name none has", async () => {
    const [run] = (
      JSON.parse((await get('/sandbox/executions?identity=routes.example.com')).text) as {
        executions: { name: string }[];
      }
    ).executions;
    const { status, text } = await get(`/sandbox/executions/${run?.name}`);
    const { execution } = JSON.parse(text) as {
      execution: {
        status: string;
        states: Record<string, { status: string }>;
        transitions: { from: string; to: string }[];
        events: { type: string; state: string | null; output?: unknown }[];
      };
    };

    expect(status).toBe(200);
    expect(execution.status).toBe('SUCCEEDED');
    expect(execution.states.IdentityVerified?.status).toBe('succeeded');
    expect(execution.states.DescribeFailure).toBeUndefined();
    expect(execution.transitions[0]).toEqual({ from: 'ReadRequest', to: 'ClaimIdentity' });
    expect(execution.events.at(-1)).toMatchObject({ type: 'ExecutionSucceeded', state: null });
    expect(execution.events.find((event) => event.type === 'TaskSucceeded')?.output).toBeTypeOf(
      'object',
    );
    expect((await get('/sandbox/executions/no-such-run')).status).toBe(404);
  });

  it('give the latest events only, when asked for a limit', async () => {
    const all = JSON.parse((await get('/sandbox/events')).text) as { events: { id: string }[] };
    const latest = JSON.parse((await get('/sandbox/events?limit=2')).text) as typeof all;

    expect(all.events.length).toBeGreaterThan(2);
    expect(latest.events).toEqual(all.events.slice(-2));
  });

  it('give only the events delivered after a given one, for a follower', async () => {
    const all = JSON.parse((await get('/sandbox/events')).text) as { events: { id: string }[] };
    const first = all.events[0]?.id as string;
    const rest = JSON.parse((await get(`/sandbox/events?after=${first}`)).text) as typeof all;
    const unknown = JSON.parse(
      (await get('/sandbox/events?after=no-such-event')).text,
    ) as typeof all;

    expect(rest.events).toEqual(all.events.slice(1));
    expect(unknown.events).toEqual(all.events);
  });
});
