import type { RequestListener } from 'node:http';

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/**
 * An HTTP date (RFC 9110 IMF-fixdate, `Sun, 06 Nov 1994 08:49:37 GMT`) from UTC fields alone. Node's own Date header
 * comes from Date.prototype.toUTCString, which in V8 also looks up the local time zone's display name: the first
 * answer of a process then reads ~1.5 MiB of ICU's time-zone name tables into its RSS (bench:footprint), for a string
 * that never shows it.
 */
export function httpDate(ms: number): string {
  const d = new Date(ms);
  return (
    `${DAYS[d.getUTCDay()]}, ${pad(d.getUTCDate())} ${MONTHS[d.getUTCMonth()]} ${pad(d.getUTCFullYear(), 4)} ` +
    `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} GMT`
  );
}

/** Node's Date header, written by httpDate instead of toUTCString; the string is made once per second, as Node does. */
export function withHttpDate(next: RequestListener): RequestListener {
  let second = -1;
  let value = '';
  return (req, res) => {
    const now = Math.floor(Date.now() / 1000);
    if (now !== second) {
      second = now;
      value = httpDate(now * 1000);
    }
    res.sendDate = false;
    res.setHeader('Date', value);
    next(req, res);
  };
}
