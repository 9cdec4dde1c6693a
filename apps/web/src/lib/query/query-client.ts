import { QueryClient } from "@tanstack/react-query";

/** The one way to make a QueryClient (browser singleton, one per server request). */
export function createQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: {
        // Server-prefetched data is fresh for a moment, so hydration does not refetch at once.
        staleTime: 2_000,
        refetchOnWindowFocus: true,
        retry: (count, error) => count < 2 && !(error instanceof HttpError && error.status < 500),
      },
    },
  });
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export async function fetchJson<T>(url: string): Promise<T> {
  const response = await fetch(url, { headers: { Accept: "application/json" }, cache: "no-store" });
  if (!response.ok) {
    const body = (await response.json().catch(() => null)) as { error?: string } | null;
    throw new HttpError(response.status, body?.error ?? `Request failed (${response.status})`);
  }
  return (await response.json()) as T;
}
