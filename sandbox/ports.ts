/**
 * The sandbox's ports: a taken port fails at once, naming the port and the variable that moves
 * it, before anything else starts (and again if it is taken while the stack boots).
 */
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';

export type Protocol = 'TCP' | 'UDP';

/** A port the sandbox needs is taken by another process. */
export class PortInUseError extends Error {
  override readonly name = 'PortInUseError';

  constructor(
    readonly port: number,
    readonly host: string,
    readonly protocol: Protocol,
    /** The environment variable that moves this port. */
    readonly variable: string,
    options?: { cause?: unknown },
  ) {
    super(
      `${protocol} port ${port} on ${host} is already in use: set ${variable} to a free port (0 picks one)`,
      options,
    );
  }
}

/** A port the sandbox listens on, and the variable that sets it. */
export interface PortSpec {
  port: number;
  host: string;
  variable: string;
}

const isInUse = (error: unknown) => (error as NodeJS.ErrnoException).code === 'EADDRINUSE';

/** `error` as a PortInUseError when the port was taken, else as it is. */
export function explainListenError(error: unknown, spec: PortSpec, protocol: Protocol): unknown {
  return isInUse(error)
    ? new PortInUseError(spec.port, spec.host, protocol, spec.variable, { cause: error })
    : error;
}

/**
 * Fails with PortInUseError when another process holds the port. TCP is checked by connecting
 * (a listening probe would itself accept, then reset, a client's connection); UDP, which has no
 * connections, by binding for an instant.
 */
export async function assertPortFree(spec: PortSpec, protocols: Protocol[]): Promise<void> {
  if (spec.port === 0) return;
  for (const protocol of protocols) {
    try {
      await (protocol === 'TCP' ? probeTcp(spec) : probeUdp(spec));
    } catch (error) {
      throw explainListenError(error, spec, protocol);
    }
  }
}

function probeTcp(spec: PortSpec): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect(spec.port, spec.host);
    socket.once('connect', () => {
      socket.destroy();
      reject(
        Object.assign(new Error(`${spec.host}:${spec.port} accepts connections`), {
          code: 'EADDRINUSE',
        }),
      );
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ECONNREFUSED') resolve();
      else reject(error);
    });
  });
}

function probeUdp(spec: PortSpec): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = createSocket('udp4');
    socket.once('error', reject);
    socket.bind(spec.port, spec.host, () => socket.close(() => resolve()));
  });
}
