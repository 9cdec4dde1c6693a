import type { Metadata } from "next";
import { Fragment } from "react";
import { SchemaTable, schemaAnchor, TypeLabel, type TJsonSchema } from "@/components/api-reference/schema-table";
import { PageHeader } from "@/components/ui/page-header";
import { requireUser } from "@/server/auth/page-access";
import { API_BASE_PATH, openApiDocument } from "@/server/api/openapi-document";

export const metadata: Metadata = { title: "API reference" };

type TParameter = { name: string; in: string; required?: boolean; description?: string; schema: TJsonSchema };
type TMedia = Record<string, { schema?: TJsonSchema }>;
type TOperation = {
  operationId: string;
  summary?: string;
  description?: string;
  tags?: string[];
  parameters?: TParameter[];
  requestBody?: { content: TMedia };
  responses: Record<string, { description: string; content?: TMedia }>;
};

const METHODS = ["get", "post", "patch", "put", "delete"] as const;

/**
 * The REST API's reference, rendered from the same OpenAPI document /api/v1/openapi.json
 * serves (itself generated from the schemas the handlers validate with).
 */
export default async function ApiReferencePage() {
  await requireUser();
  const document = openApiDocument();
  const operations = Object.entries(document.paths ?? {}).flatMap(([path, item]) =>
    METHODS.flatMap((method) => {
      const operation = (item as Record<string, TOperation | undefined>)[method];
      return operation ? [{ path, method, operation }] : [];
    }),
  );
  const tags = [...new Set(operations.map((o) => o.operation.tags?.[0] ?? "Other"))];
  const schemas = Object.entries((document.components?.schemas ?? {}) as Record<string, TJsonSchema>);

  return (
    <>
      <PageHeader
        crumbs={[{ label: "API reference" }]}
        title="API reference"
        description={
          <>
            {document.info.description} Base path <code>{API_BASE_PATH}</code>; the machine-readable document is{" "}
            <a href={`${API_BASE_PATH}/openapi.json`}>{API_BASE_PATH}/openapi.json</a> (OpenAPI {document.openapi}).
          </>
        }
      />
      {tags.map((tag) => (
        <section key={tag} className="card" aria-labelledby={`tag-${tag}`} style={{ marginBottom: "1rem" }}>
          <div className="card-header">
            <h2 id={`tag-${tag}`}>{tag}</h2>
          </div>
          <div className="card-body">
            {operations
              .filter((o) => (o.operation.tags?.[0] ?? "Other") === tag)
              .map(({ path, method, operation }) => (
                <article key={operation.operationId} className="api-operation" aria-labelledby={`op-${operation.operationId}`}>
                  <h3 id={`op-${operation.operationId}`}>
                    <span className="api-method mono">{method.toUpperCase()}</span> <span className="mono">{path}</span>
                  </h3>
                  <p>
                    <strong>{operation.summary}</strong>
                    {operation.description ? ` ${operation.description}` : null}
                  </p>
                  {operation.parameters?.length ? (
                    <SchemaTable
                      label={`${operation.operationId} parameters`}
                      schema={{
                        type: "object",
                        properties: Object.fromEntries(
                          operation.parameters.map((p) => [
                            `${p.name} (${p.in})`,
                            { ...p.schema, description: p.description ?? p.schema.description },
                          ]),
                        ),
                        required: operation.parameters.filter((p) => p.required).map((p) => `${p.name} (${p.in})`),
                      }}
                    />
                  ) : null}
                  {operation.requestBody ? (
                    <p>
                      Body (application/json): <TypeLabel schema={operation.requestBody.content["application/json"]?.schema ?? {}} />
                    </p>
                  ) : null}
                  <dl>
                    {Object.entries(operation.responses).map(([status, response]) => (
                      <Fragment key={status}>
                        <dt className="mono">{status}</dt>
                        <dd>
                          {response.description}
                          {Object.entries(response.content ?? {}).map(([type, media]) => (
                            <span key={type}>
                              {" "}
                              — {type}
                              {media.schema?.$ref ? (
                                <>
                                  : <TypeLabel schema={media.schema} />
                                </>
                              ) : null}
                            </span>
                          ))}
                        </dd>
                      </Fragment>
                    ))}
                  </dl>
                </article>
              ))}
          </div>
        </section>
      ))}
      <section className="card" aria-labelledby="schemas-title">
        <div className="card-header">
          <h2 id="schemas-title">Schemas</h2>
        </div>
        <div className="card-body">
          {schemas.map(([name, schema, variants = schema.anyOf ?? schema.oneOf]) => (
            <article key={name} id={schemaAnchor(name)} className="api-operation" aria-labelledby={`${schemaAnchor(name)}-title`}>
              <h3 id={`${schemaAnchor(name)}-title`} className="mono">
                {name}
              </h3>
              {schema.description ? <p>{schema.description}</p> : null}
              {variants ? (
                variants.map((member, i) => <SchemaTable key={i} schema={member} label={`${name} variant ${i + 1}`} />)
              ) : (
                <SchemaTable schema={schema} label={name} />
              )}
            </article>
          ))}
        </div>
      </section>
    </>
  );
}
