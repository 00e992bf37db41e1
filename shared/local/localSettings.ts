import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** The file Azure Functions users keep their local app settings in (git-ignored; see local.settings.example.json). */
export const LOCAL_SETTINGS_FILE = 'local.settings.json';

/**
 * Reads `local.settings.json` as the Functions host does for `func start`: each of its `Values`
 * becomes an app setting (an environment variable), unless the environment already sets it (the
 * environment wins, so a one-off `PORT=… npm start` still works). Answers the names it applied;
 * throws naming the file and the problem when the file is not what the Functions tools write.
 */
export function applyLocalSettings(appRoot: string, env: NodeJS.ProcessEnv = process.env): string[] {
  const file = path.join(appRoot, LOCAL_SETTINGS_FILE);
  if (!existsSync(file)) return [];
  const values = valuesIn(file, readFileSync(file, 'utf8'));
  const applied = Object.keys(values).filter((name) => env[name] === undefined);
  for (const name of applied) env[name] = values[name];
  return applied;
}

/** The `Values` of the file's text, checked: a JSON object of strings, not encrypted. */
function valuesIn(file: string, text: string): Record<string, string> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new Error(`${file}: is not JSON (${(error as Error).message})`, { cause: error });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error(`${file}: must be a JSON object`);
  const { IsEncrypted, Values } = parsed as { IsEncrypted?: unknown; Values?: unknown };
  // `func settings encrypt` writes values only the Core Tools on that machine can read.
  if (IsEncrypted === true)
    throw new Error(`${file}: IsEncrypted is true; decrypt it (func settings decrypt) or set the values in plain text`);
  if (Values === undefined) return {};
  if (typeof Values !== 'object' || Values === null || Array.isArray(Values)) throw new Error(`${file}: Values must be an object`);
  const entries = Object.entries(Values as Record<string, unknown>);
  const notText = entries.filter(([, value]) => typeof value !== 'string').map(([name]) => name);
  if (notText.length) throw new Error(`${file}: Values.${notText.join(', Values.')} must be strings, as app settings are`);
  return Object.fromEntries(entries) as Record<string, string>;
}
