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
