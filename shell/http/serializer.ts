import fastJson from 'fast-json-stringify';
import type { FastifySerializerCompiler } from 'fastify';
import { z } from 'zod';

/**
 * Responses are written by fast-json-stringify, compiled once per route and status code from the route's
 * zod response schema (its output side, as JSON Schema): no zod parse per response, and only the
 * properties the schema declares are ever sent. A required property missing from a handler's answer is
 * an error (500), as with the zod serializer this replaces.
 */
export const serializerCompiler: FastifySerializerCompiler<unknown> = ({ schema }) => {
  const jsonSchema = z.toJSONSchema(zodSchemaOf(schema), { io: 'output', target: 'draft-7', unrepresentable: 'any' });
  return fastJson(jsonSchema as Parameters<typeof fastJson>[0]);
};

function zodSchemaOf(schema: unknown): z.ZodType {
  if (schema instanceof z.ZodType) return schema;
  const wrapped = (schema as { properties?: unknown } | null)?.properties;
  if (wrapped instanceof z.ZodType) return wrapped;
  throw new Error(`a response schema must be a zod schema, got ${JSON.stringify(schema)}`);
}
