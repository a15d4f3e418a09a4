const BYTE_UNITS = ["B", "KB", "MB", "GB", "TB"];

/** 1234567 → "1.2 MB" (powers of 1000, as file managers show sizes). */
export function formatBytes(n: number): string {
  let i = 0;
  let v = n;
  while (v >= 1000 && i < BYTE_UNITS.length - 1) {
    v /= 1000;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(v < 10 ? 1 : 0)} ${BYTE_UNITS[i]}`;
}

export function formatCount(n: number): string {
  return n.toLocaleString("en-US");
}

/** 850 → "850 ms", 61500 → "1 min 2 s". */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)} s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m} min ${Math.round(s % 60)} s` : `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** An ISO time as local "2026-12-01 15:33:21" (the ISO text goes in the element's title). */
export function formatTime(iso: string): string {
  const d = new Date(iso);
  const pad = (n: number): string => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** A job id's last 12 hex digits: random in a UUIDv7, whose first digits are the time (alike for jobs submitted together). */
export function shortId(id: string): string {
  return id.slice(-12);
}
