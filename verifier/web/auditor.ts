// Auditor page (browser entry): drop an audit bundle, run the same verifier code the CLI runs, see every check,
// the EAR, and download the report. Nothing leaves the browser.
import {
  loadDefaultPolicy,
  NOW_FORMATS,
  parseNow,
  parsePolicy,
  verifyBundle,
  type BundleReport,
  type Policy,
} from '../index.ts';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

let lastReport: (BundleReport & { file: string; policyId: string; verifiedAt: string }) | undefined;
let customPolicy: Policy | undefined;

function text(tag: string, content: string, cls?: string): HTMLElement {
  const el = document.createElement(tag);
  el.textContent = content;
  if (cls) el.className = cls;
  return el;
}

function render(report: BundleReport, file: string, policy: Policy): void {
  const status = report.ear.submods['props-enclave']?.['ear.status'] ?? 'none';
  const verdict = $('verdict');
  verdict.className = report.ok ? 'verdict ok' : 'verdict bad';
  verdict.textContent = report.ok ? `VERIFIED — ${file}` : `FAILED — ${file}`;
  $('simulated').textContent = report.simulated
    ? 'This bundle comes from a SIMULATED enclave (platform "sim"): it proves the protocol, not the hardware.'
    : '';
  const body = $('checks');
  body.replaceChildren();
  for (const c of report.checks) {
    const tr = document.createElement('tr');
    tr.className = c.ok ? 'pass' : 'fail';
    tr.dataset.check = c.id;
    tr.append(text('td', c.ok ? '✓' : '✗'), text('td', c.id), text('td', c.code ?? ''), text('td', c.detail ?? ''));
    body.append(tr);
  }
  $('ear-status').textContent = `EAR status: ${status} (policy ${policy.id})`;
  $('ear').textContent = JSON.stringify(report.ear, null, 2);
  ($('download') as HTMLButtonElement).disabled = false;
}

async function verifyFile(file: File): Promise<void> {
  const policy = customPolicy ?? loadDefaultPolicy();
  let input: unknown;
  try {
    input = JSON.parse(await file.text());
  } catch {
    $('verdict').className = 'verdict bad';
    $('verdict').textContent = `FAILED — ${file.name}: ERR_JSON_MALFORMED (not valid JSON)`;
    return;
  }
  const allowSimulated = ($('allow-sim') as HTMLInputElement).checked;
  const nowField = ($('now') as HTMLInputElement).value;
  let now: Date;
  try {
    now = parseNow(nowField.trim() || undefined);
  } catch {
    $('verdict').className = 'verdict bad';
    $('verdict').textContent = `NOT VERIFIED — "verify at" must be ${NOW_FORMATS} (ERR_NOW_INVALID)`;
    return;
  }
  const report = await verifyBundle(input, { policy, now, allowSimulated });
  lastReport = { ...report, file: file.name, policyId: policy.id, verifiedAt: now.toISOString() };
  render(report, file.name, policy);
}

function pick(handler: (f: File) => void) {
  return (ev: Event) => {
    const f = (ev.target as HTMLInputElement).files?.[0];
    if (f) handler(f);
  };
}

$('file').addEventListener(
  'change',
  pick((f) => void verifyFile(f)),
);
$('policy').addEventListener(
  'change',
  pick(async (f) => {
    try {
      customPolicy = parsePolicy(JSON.parse(await f.text()));
      $('policy-name').textContent = customPolicy.id;
    } catch {
      customPolicy = undefined;
      $('policy-name').textContent = 'ERR_POLICY_MALFORMED — using the default policy';
    }
  }),
);
const drop = $('drop');
drop.addEventListener('dragover', (e) => e.preventDefault());
drop.addEventListener('drop', (e) => {
  e.preventDefault();
  const f = e.dataTransfer?.files[0];
  if (f) void verifyFile(f);
});
$('download').addEventListener('click', () => {
  if (!lastReport) return;
  const blob = new Blob([`${JSON.stringify(lastReport, null, 2)}\n`], { type: 'application/json' });
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = 'props-audit-report.json';
  a.click();
});
$('policy-name').textContent = loadDefaultPolicy().id;
document.body.dataset.ready = 'true';
