/** The HTTP status of an Azure Storage SDK error (RestError), or undefined when no response came back. */
export function statusOf(error: unknown): number | undefined {
  return typeof error === 'object' && error !== null && 'statusCode' in error ? (error as { statusCode?: number }).statusCode : undefined;
}
