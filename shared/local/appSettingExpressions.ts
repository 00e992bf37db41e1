/** Reads one app setting by name; undefined when it is not set. */
export type AppSettingReader = (name: string) => string | undefined;

/**
 * Replaces every `%NAME%` in a binding expression with the app setting NAME, as the Functions host's
 * name resolver does; throws, naming the setting and the expression, when a setting is not set.
 */
export function resolveAppSettings(expression: string, setting: AppSettingReader): string {
  return expression.replace(/%([^%]+)%/g, (_match, name: string) => {
    const value = setting(name);
    if (value === undefined) throw new Error(`app setting ${name}, used in "${expression}", is not set`);
    return value;
  });
}
