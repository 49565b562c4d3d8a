/** Types of allure_reporter.js (plain JavaScript: cucumber-js loads formatters apart from ts-node). */
/** The step phrases that claim a broken kernel rule: the verdict that a design breaks. */
export const BREAKS: RegExp;
/** The memory kind of a scenario (its Allure epic), from its tags or its folder. */
export function memoryKind(tags: readonly string[], uri: string): string;
