import type { DomainFailure } from '../core/errors.js';
import { isUniqueViolation } from './tx.js';

/**
 * Runs a write that a unique index guards: a violation (a duplicate that raced past the service's own
 * check) becomes `problem()`, a 409, never a 500. Anything else is rethrown as it is.
 */
export async function mapUniqueViolation<T>(problem: () => DomainFailure, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (isUniqueViolation(error)) throw problem();
    throw error;
  }
}
