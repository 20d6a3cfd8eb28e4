/**
 * Whether `text` is well-formed Unicode, with no lone surrogate (`String.prototype.isWellFormed`,
 * ES2024). A lone surrogate has no UTF-8 form: `encodeURIComponent` throws on it, and a store
 * keeps it under the bytes of another name.
 */
export function isWellFormed(text: string): boolean {
  return !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(text);
}
