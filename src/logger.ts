import pino, { type Logger } from 'pino';

/**
 * pino JSON; pretty only on a TTY. Authorization headers are redacted; request and response bodies
 * are never logged (Fastify's serializers log method, route and status only).
 */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  const pretty = !destination && process.stdout.isTTY && level !== 'silent';
  return pino(
    {
      level,
      redact: { paths: ['req.headers.authorization', 'req.headers.cookie', 'headers.authorization'], censor: '[redacted]' },
      serializers: {
        req: (req: { method: string; url: string; id: string }) => ({ method: req.method, url: req.url.split('?')[0], id: req.id }),
      },
      ...(pretty ? { transport: { target: 'pino-pretty', options: { colorize: true } } } : {}),
    },
    destination,
  );
}
