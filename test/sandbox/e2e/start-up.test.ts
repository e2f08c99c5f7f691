import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, type Server } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { PortInUseError } from '#sandbox/ports.js';
import { type SandboxStack, startStack } from '#sandbox/stack.js';

// Start-up a person can script: a taken port fails at once and says which variable moves it;
// the ports open only when the stack is ready, and GET /sandbox/health says so.

/** A TCP port another process holds for the test. */
async function holdTcpPort(): Promise<{ port: number; server: Server }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as { port: number }).port, server };
}

/** A UDP port another process holds for the test. */
async function holdUdpPort(): Promise<{ port: number; socket: UdpSocket }> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return { port: socket.address().port, socket };
}

/** A port free right now (the kernel's pick), for a stack that must open a fixed one. */
async function freePort(): Promise<number> {
  const { port, server } = await holdTcpPort();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

let stack: SandboxStack | undefined;
afterAll(async () => {
  await stack?.stop();
});

describe('starting the sandbox', () => {
  it('fails at once on a taken API port, naming the port and SANDBOX_API_PORT', async () => {
    const taken = await holdTcpPort();
    try {
      const start = startStack({ apiPort: taken.port });

      await expect(start).rejects.toBeInstanceOf(PortInUseError);
      await expect(start).rejects.toThrow(
        `TCP port ${taken.port} on 127.0.0.1 is already in use: set SANDBOX_API_PORT`,
      );
    } finally {
      taken.server.close();
    }
  });

  it('fails at once on a taken AWS port, naming SANDBOX_AWS_PORT', async () => {
    const taken = await holdTcpPort();
    try {
      await expect(startStack({ awsPort: taken.port })).rejects.toThrow(
        `TCP port ${taken.port} on 127.0.0.1 is already in use: set SANDBOX_AWS_PORT`,
      );
    } finally {
      taken.server.close();
    }
  });

  it('fails at once on a DNS port taken for UDP, naming SANDBOX_DNS_PORT', async () => {
    const taken = await holdUdpPort();
    try {
      await expect(startStack({ dnsPort: taken.port })).rejects.toThrow(
        `UDP port ${taken.port} on 127.0.0.1 is already in use: set SANDBOX_DNS_PORT`,
      );
    } finally {
      taken.socket.close();
    }
  });

  it('opens its port only when ready: a client is refused, or told it is ready, never "starting"', async () => {
    const apiPort = await freePort();
    let booted = false;
    const starting = startStack({ apiPort }).then((started) => {
      booted = true;
      stack = started;
      return started;
    });
    const answers = new Set<string>();
    while (!booted) {
      try {
        const response = await fetch(`http://127.0.0.1:${apiPort}/sandbox/health`);
        answers.add(`${response.status} ${await response.text()}`);
      } catch (error) {
        answers.add(String((error as { cause?: { code?: string } }).cause?.code));
      }
    }
    await starting;
    const health = await fetch(`http://127.0.0.1:${apiPort}/sandbox/health`);

    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ ready: true });
    for (const answer of answers) expect(['ECONNREFUSED', '200 {"ready":true}']).toContain(answer);
  }, 30_000);
});
