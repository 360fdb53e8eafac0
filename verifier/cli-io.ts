// File reading for verifier commands: size-limited, coded failures, never echoing file contents.
import { readFileSync, statSync } from 'node:fs';
import { parseJsonText, PropsError } from '../protocol/index.ts';

export function readJsonFile(path: string, maxBytes: number): unknown {
  let size: number;
  try {
    size = statSync(path).size;
  } catch (cause) {
    throw new PropsError('ERR_FILE_UNREADABLE', { detail: 'cannot stat file', cause });
  }
  if (size > maxBytes) throw new PropsError('ERR_INPUT_TOO_LARGE', { detail: `file over ${maxBytes} bytes` });
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new PropsError('ERR_FILE_UNREADABLE', { cause });
  }
  return parseJsonText(text, maxBytes);
}

export function parseNow(value: string | undefined): Date {
  if (value === undefined) return new Date();
  const d = new Date(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(d.getTime()))
    throw new PropsError('ERR_USAGE', { detail: '--now must be an ISO 8601 time' });
  return d;
}
