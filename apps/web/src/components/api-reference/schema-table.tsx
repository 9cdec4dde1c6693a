/**
 * JSON Schemas of the OpenAPI document as tables people read: one row per field with its type,
 * whether it is required, and its description. References link to the schema's own table.
 */
import type { ReactNode } from "react";

export type TJsonSchema = {
  $ref?: string;
  type?: string | string[];
  format?: string;
  enum?: unknown[];
  const?: unknown;
  items?: TJsonSchema;
  properties?: Record<string, TJsonSchema>;
  required?: string[];
  anyOf?: TJsonSchema[];
  oneOf?: TJsonSchema[];
  description?: string;
  default?: unknown;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  additionalProperties?: boolean | TJsonSchema;
};

export const schemaAnchor = (name: string) => `schema-${name}`;

/** A schema's type in a few words, with links for references. */
export function TypeLabel({ schema }: { schema: TJsonSchema }): ReactNode {
  if (schema.$ref) {
    const name = schema.$ref.split("/").at(-1)!;
    return <a href={`#${schemaAnchor(name)}`}>{name}</a>;
  }
  const union = schema.anyOf ?? schema.oneOf;
  if (union) {
    return union.map((member, i) => (
      <span key={i}>
        {i > 0 ? " or " : null}
        <TypeLabel schema={member} />
      </span>
    ));
  }
  if (schema.const !== undefined) return <code>{JSON.stringify(schema.const)}</code>;
  if (schema.enum) return <>one of {schema.enum.map((value) => JSON.stringify(value)).join(", ")}</>;
  const type = Array.isArray(schema.type) ? schema.type.join(" or ") : schema.type;
  if (type === "array" && schema.items) {
    return (
      <>
        list of <TypeLabel schema={schema.items} />
      </>
    );
  }
  if (!type) return "any JSON";
  return schema.format ? `${type} (${schema.format})` : type;
}

function constraints(schema: TJsonSchema): string {
  const parts: string[] = [];
  if (schema.minimum !== undefined) parts.push(`≥ ${schema.minimum}`);
  if (schema.maximum !== undefined) parts.push(`≤ ${schema.maximum}`);
  if (schema.minLength !== undefined && schema.minLength > 0) parts.push(`at least ${schema.minLength} characters`);
  if (schema.maxLength !== undefined) parts.push(`at most ${schema.maxLength} characters`);
  if (schema.default !== undefined) parts.push(`default ${JSON.stringify(schema.default)}`);
  return parts.join(", ");
}

/** The fields of an object schema (nested objects inline, one level per table). */
export function SchemaTable({ schema, label }: { schema: TJsonSchema; label: string }) {
  if (!schema.properties) {
    return (
      <p>
        <TypeLabel schema={schema} />
        {schema.description ? ` — ${schema.description}` : null}
      </p>
    );
  }
  const required = new Set(schema.required ?? []);
  return (
    <div>
      <table className="table reference-table" aria-label={label}>
        <thead>
          <tr>
            <th scope="col">Field</th>
            <th scope="col">Type</th>
            <th scope="col">Notes</th>
          </tr>
        </thead>
        <tbody>
          {Object.entries(schema.properties).map(([name, field]) => (
            <tr key={name}>
              <td className="mono">
                {name}
                {required.has(name) ? null : <span className="muted">?</span>}
              </td>
              <td>
                <TypeLabel schema={field} />
                {field.properties ? <SchemaTable schema={field} label={`${label}: ${name}`} /> : null}
                {field.type === "array" && field.items?.properties ? (
                  <SchemaTable schema={field.items} label={`${label}: ${name}`} />
                ) : null}
              </td>
              <td>{[field.description, constraints(field)].filter(Boolean).join(". ")}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
