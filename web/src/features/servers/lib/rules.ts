/**
 * A blueprint variable's rules, checked in the browser exactly as the API's
 * mamba/domain/rules.py `check_value` does (the catalog sends them parsed as `rule_list`).
 * Each failure is a translation key under `servers:rules.*` with its parameters, so the
 * message is in the user's language; the API re-checks on submit and its field errors win.
 */
import type { components } from '@/api/schema';

export type Rule = components['schemas']['RuleOut'];
export interface RuleFailure {
  key: string;
  params?: Record<string, string>;
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const INTEGER = /^[+-]?\d+$/;
const PRESENCE = new Set(['required', 'nullable', 'sometimes', 'present', 'filled', 'bail']);

function isUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return /^[a-zA-Z][a-zA-Z0-9+.-]*:$/.test(url.protocol) && url.host !== '';
  } catch {
    return false;
  }
}

function isIpv4(value: string): boolean {
  const parts = value.split('.');
  return parts.length === 4 && parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255 && String(Number(p)) === p);
}

function isIpv6(value: string): boolean {
  return value.includes(':') && /^[0-9a-fA-F:.]+$/.test(value) && (() => {
    try {
      new URL(`http://[${value}]/`);
      return true;
    } catch {
      return false;
    }
  })();
}

const SIMPLE: Record<string, [(v: string) => boolean, string]> = {
  string: [() => true, 'string'],
  integer: [(v) => INTEGER.test(v.trim()), 'integer'],
  numeric: [(v) => NUMBER.test(v.trim()), 'numeric'],
  boolean: [(v) => ['0', '1', 'true', 'false'].includes(v), 'boolean'],
  accepted: [(v) => ['yes', 'on', '1', 'true'].includes(v.toLowerCase()), 'accepted'],
  declined: [(v) => ['no', 'off', '0', 'false'].includes(v.toLowerCase()), 'declined'],
  alpha: [(v) => /^\p{L}+$/u.test(v), 'alpha'],
  alpha_num: [(v) => /^[\p{L}\p{N}]+$/u.test(v), 'alpha_num'],
  alpha_dash: [(v) => /^[\p{L}\p{N}_-]+$/u.test(v), 'alpha_dash'],
  ascii: [(v) => /^[\x00-\x7f]*$/.test(v), 'ascii'],
  lowercase: [(v) => v === v.toLowerCase(), 'lowercase'],
  uppercase: [(v) => v === v.toUpperCase(), 'uppercase'],
  url: [isUrl, 'url'],
  active_url: [isUrl, 'url'],
  email: [(v) => /^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(v), 'email'],
  ip: [(v) => isIpv4(v) || isIpv6(v), 'ip'],
  ipv4: [isIpv4, 'ipv4'],
  ipv6: [isIpv6, 'ipv6'],
  uuid: [(v) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(v), 'uuid'],
  json: [
    (v) => {
      try {
        JSON.parse(v);
        return true;
      } catch {
        return false;
      }
    },
    'json',
  ],
  timezone: [
    (v) => {
      try {
        new Intl.DateTimeFormat('en', { timeZone: v });
        return true;
      } catch {
        return false;
      }
    },
    'timezone',
  ],
  hex_color: [(v) => /^#([0-9a-fA-F]{3,4}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})$/.test(v), 'hex_color'],
  mac_address: [(v) => /^([0-9A-Fa-f]{2}[:-]){5}[0-9A-Fa-f]{2}$/.test(v), 'mac_address'],
};

/** A PHP `/pattern/flags` as a JS RegExp; null when the browser cannot use it (the API decides then). */
export function compilePattern(spec: string): RegExp | null {
  if (spec.length < 2 || /^[a-zA-Z0-9\\ ]/.test(spec)) return null;
  const open = spec[0]!;
  const close = ({ '(': ')', '[': ']', '{': '}', '<': '>' } as Record<string, string>)[open] ?? open;
  const end = spec.lastIndexOf(close);
  if (end <= 0) return null;
  const body = spec.slice(1, end).replaceAll('\\A', '^').replaceAll('\\z', '$').replaceAll('\\Z', '$');
  let flags = 'u';
  for (const flag of spec.slice(end + 1)) {
    if (flag === 'i' || flag === 'm' || flag === 's') flags += flag;
    else if (flag !== 'u' && flag !== 'D') return null;
  }
  try {
    return new RegExp(body, flags);
  } catch {
    return null;
  }
}

export function checkValue(value: string | null | undefined, rules: Rule[]): RuleFailure[] {
  const has = (name: string) => rules.some((r) => r.name === name);
  const numeric = has('integer') || has('numeric');
  const empty = value == null || value.trim() === '';
  if (empty) {
    return has('required') || (has('filled') && value != null) ? [{ key: 'required' }] : [];
  }
  const text = value;
  const failures: RuleFailure[] = [];
  for (const rule of rules) {
    const problem = checkOne(text, rule, numeric);
    if (problem) {
      failures.push(problem);
      if (has('bail')) break;
    }
  }
  return failures;
}

function checkOne(text: string, rule: Rule, numeric: boolean): RuleFailure | null {
  const name = rule.name;
  const args = rule.args ?? [];
  if (PRESENCE.has(name)) return null;
  const simple = SIMPLE[name];
  if (simple) return simple[0](text) ? null : { key: simple[1] };
  if (['min', 'max', 'size', 'between', 'gt', 'gte', 'lt', 'lte'].includes(name)) {
    const measured = numeric ? (NUMBER.test(text.trim()) ? Number(text) : null) : [...text].length;
    if (measured === null) return { key: 'numeric' };
    const [a = 0, b = 0] = args.map(Number);
    const ok = {
      min: measured >= a,
      max: measured <= a,
      size: measured === a,
      between: measured >= a && measured <= b,
      gt: measured > a,
      gte: measured >= a,
      lt: measured < a,
      lte: measured <= a,
    }[name as 'min'];
    if (ok) return null;
    const unit = numeric ? 'number' : 'length';
    return { key: `${name}_${unit}`, params: { a: args[0] ?? '', b: args[1] ?? '' } };
  }
  if (['digits', 'digits_between', 'min_digits', 'max_digits'].includes(name)) {
    if (!/^\d+$/.test(text)) return { key: 'digits_only' };
    const n = text.length;
    const [a = 0, b = 0] = args.map((x) => Math.trunc(Number(x)));
    const ok = { digits: n === a, digits_between: n >= a && n <= b, min_digits: n >= a, max_digits: n <= a }[name as 'digits'];
    return ok ? null : { key: name, params: { a: args[0] ?? '', b: args[1] ?? '' } };
  }
  const list = args.join(', ');
  switch (name) {
    case 'in':
      return args.includes(text) ? null : { key: 'in', params: { list } };
    case 'not_in':
      return args.includes(text) ? { key: 'not_in', params: { list } } : null;
    case 'starts_with':
      return args.some((a) => text.startsWith(a)) ? null : { key: 'starts_with', params: { list } };
    case 'ends_with':
      return args.some((a) => text.endsWith(a)) ? null : { key: 'ends_with', params: { list } };
    case 'doesnt_start_with':
      return args.some((a) => text.startsWith(a)) ? { key: 'doesnt_start_with', params: { list } } : null;
    case 'doesnt_end_with':
      return args.some((a) => text.endsWith(a)) ? { key: 'doesnt_end_with', params: { list } } : null;
    case 'regex':
    case 'not_regex': {
      const pattern = compilePattern(args[0] ?? '');
      if (!pattern) return null; // the API checks what the browser cannot
      const matched = pattern.test(text);
      return matched === (name === 'regex') ? null : { key: 'format' };
    }
    default:
      return null;
  }
}

/** The choices of an `in:` rule, for a select instead of a text box. */
export function choices(rules: Rule[]): string[] | null {
  const rule = rules.find((r) => r.name === 'in');
  return rule?.args?.length ? rule.args : null;
}

export function isBoolean(rules: Rule[]): boolean {
  return rules.some((r) => r.name === 'boolean');
}
