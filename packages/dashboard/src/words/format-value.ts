import { jsonEquals, type ResultValue } from '@vexil/core';

/** A value as a person reads it: strings bare, `null` as the caller's default, long JSON cut short. */
export function formatValue(value: unknown, variants?: Record<string, unknown>): string {
  if (value === null || value === undefined) return 'default';
  if (variants !== undefined) {
    const name = variantName(value, variants);
    if (name !== undefined) return name;
  }
  if (typeof value === 'string') return value === '' || /[,[\]→]/.test(value) ? JSON.stringify(value) : value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  const json = JSON.stringify(value);
  return json.length > 40 ? `${json.slice(0, 39)}…` : json;
}

function variantName(value: unknown, variants: Record<string, unknown>): string | undefined {
  for (const [name, variant] of Object.entries(variants)) {
    if (jsonEquals(variant as ResultValue, value as ResultValue)) return name;
  }
  return undefined;
}

export function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

export function formatPercent(percent: number): string {
  return `${Number.isInteger(percent) ? percent : percent.toFixed(2).replace(/0$/, '')} %`;
}
