import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/*
 * The receiving end of Alertmanager's webhook_configs: an HTTP server on 127.0.0.1 that keeps every notification
 * with the path it was posted to (/pages, /tickets ... as in alerting/alertmanager.yml) and when it arrived.
 */

/** One alert of a notification (Alertmanager webhook payload, version 4). */
export interface NotifiedAlert {
  status: 'firing' | 'resolved';
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
}

export interface Notification {
  path: string;
  /** Date.now() when it arrived: for ordering against the test's own events, never for timing assertions. */
  receivedAt: number;
  receiver: string;
  status: 'firing' | 'resolved';
  groupLabels: Record<string, string>;
  alerts: NotifiedAlert[];
}

/** An alert as it arrived, with its notification's path, receiver and arrival. */
export interface AlertEvent extends NotifiedAlert {
  path: string;
  receiver: string;
  receivedAt: number;
}

export interface WebhookReceiver {
  /** Base URL; Alertmanager posts to `${url}/pages` and so on. */
  url: string;
  notifications(): Notification[];
  /** Every alert of every notification, in arrival order. */
  events(): AlertEvent[];
  /** Polls until an alert event matches, or fails after `timeoutMs` naming `what` and what did arrive. */
  waitFor(what: string, match: (e: AlertEvent) => boolean, timeoutMs: number): Promise<AlertEvent>;
  close(): Promise<void>;
}

export const describeEvent = (e: AlertEvent): string =>
  `${e.path} ${e.status} ${e.labels.alertname ?? '?'}{${Object.entries(e.labels)
    .filter(([k]) => k !== 'alertname')
    .map(([k, v]) => `${k}="${v}"`)
    .join(',')}}`;

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const received: Notification[] = [];
  const malformed: string[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      try {
        const payload = JSON.parse(body) as Omit<Notification, 'path' | 'receivedAt'>;
        received.push({ ...payload, path: req.url ?? '', receivedAt: Date.now() });
      } catch {
        malformed.push(body.slice(0, 200));
      }
      res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const events = (): AlertEvent[] => {
    if (malformed.length > 0) throw new Error(`Alertmanager posted a body that is not JSON: ${malformed[0]}`);
    return received.flatMap((n) =>
      n.alerts.map((a) => ({ ...a, path: n.path, receiver: n.receiver, receivedAt: n.receivedAt })),
    );
  };
  return {
    url: `http://127.0.0.1:${port}`,
    notifications: () => [...received],
    events,
    async waitFor(what, match, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = events().find(match);
        if (found) return found;
        if (Date.now() > deadline) {
          const seen = events().map(describeEvent);
          throw new Error(
            `no notification of ${what} within ${timeoutMs / 1000} s; received: ${seen.length > 0 ? seen.join('; ') : 'nothing'}`,
          );
        }
        await sleep(250);
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
