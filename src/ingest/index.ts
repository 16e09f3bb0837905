/** `tokenvault/ingest`: the record tokenizer and its field policy, for pipelines (see README "Ingest"). */
export { createRecordTokenizer, objectView, MAX_BATCH } from './record-tokenizer.js';
export type {
  FieldProblem,
  IterateOptions,
  RecordOutcome,
  RecordTokenizer,
  RecordTokenizerOptions,
  RecordView,
  Slot,
  StreamOptions,
} from './record-tokenizer.js';
export { FieldPolicyError, loadFieldPolicy, parseFieldPolicy, parsePath } from './field-policy.js';
export type { FieldAction, FieldPolicy, FieldRule, InvalidChoice, PathSegment } from './field-policy.js';
export { textView } from './json-text.js';
