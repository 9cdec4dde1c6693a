import { otherMethods } from "@/server/api/api-route";
import { openApiDocument } from "@/server/api/openapi-document";

/**
 * The API's OpenAPI 3.1 document. Public, like the source it is generated from: it describes
 * the endpoints and holds no data.
 */
export async function GET() {
  return Response.json(openApiDocument(), { headers: { "Cache-Control": "public, max-age=300" } });
}

export const { HEAD, OPTIONS, POST, PUT, PATCH, DELETE } = otherMethods({ GET });
