import { z } from 'zod';

/** Scalar pieces the response shapes share, so the OpenAPI document and the validation come from one place. */

export const uuid = z.uuid();
export const timestamp = z.string().meta({ format: 'date-time', example: '2026-11-25T12:00:00.000Z' });
export const money = z.number().int().meta({ description: 'Integer amount in minor units (cents, kobo)' });
export const currency = z.string().meta({ example: 'USD', description: 'ISO 4217 code' });
