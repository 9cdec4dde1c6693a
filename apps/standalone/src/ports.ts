/**
 * Ports of the embedded platform. A port the user chose must be free (or we say so clearly);
 * a default that is taken (e.g. 1883 by a system Mosquitto) moves to the next free one.
 */
import { createServer } from "node:net";

export class PortTakenError extends Error {}

function isPortFree(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

export type TPortChoice = { port: number; moved: boolean };

export async function choosePort(options: {
  what: string;
  envName: string;
  preferred: number;
  explicit: boolean;
  host: string;
}): Promise<TPortChoice> {
  if (await isPortFree(options.preferred, options.host)) return { port: options.preferred, moved: false };
  if (options.explicit) {
    throw new PortTakenError(
      `${options.what} cannot listen on port ${options.preferred}: it is already in use. ` +
        `Stop what holds it (\`ss -ltnp 'sport = :${options.preferred}'\` shows it) or set ${options.envName} to a free port.`,
    );
  }
  for (let port = options.preferred + 1; port < options.preferred + 50; port++) {
    if (await isPortFree(port, options.host)) return { port, moved: true };
  }
  throw new PortTakenError(`${options.what}: no free port near ${options.preferred}; set ${options.envName}.`);
}
