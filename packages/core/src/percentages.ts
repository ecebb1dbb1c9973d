import { InvalidRolloutPercentageException } from './errors.js';

export const PERCENT_REASON =
  'Value should be a number in range [0, 100] with at most two decimals (0.01 % steps), and the treatments of a revision may add up to at most 100.';

/** Percent → basis points (percent × 100, an integer), or undefined when it is not a percentage with at most two decimals. */
export function basisPointsOf(value: unknown): number | undefined {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 100) return undefined;
  const scaled = value * 100;
  const basisPoints = Math.round(scaled);
  // 0.07 * 100 is 7.000000000000001 in doubles; anything further from a whole number has a third decimal.
  return Math.abs(scaled - basisPoints) > 1e-6 ? undefined : basisPoints;
}

/** Percent → basis points (percent × 100, an integer), so every comparison after this is exact. */
export function percentToBasisPoints(value: unknown, field = 'PercentRollout'): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new InvalidRolloutPercentageException(value, `${field} must be a number. ${PERCENT_REASON}`, { field });
  }
  if (value < 0 || value > 100) {
    throw new InvalidRolloutPercentageException(value, `${field} is outside [0, 100]. ${PERCENT_REASON}`, { field });
  }
  const basisPoints = basisPointsOf(value);
  if (basisPoints === undefined) {
    throw new InvalidRolloutPercentageException(value, `${field} has more than two decimals. ${PERCENT_REASON}`, {
      field,
    });
  }
  return basisPoints;
}
