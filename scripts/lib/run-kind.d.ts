/** Types of run-kind.js (plain JavaScript, loaded by cucumber.js before ts-node). */
export function runKind(args: string[]): { partial: boolean; why: string[] };
