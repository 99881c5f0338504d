// Writes the small Arrow IPC fixtures that lora4j's data/arrow tests read, using an independent
// Arrow implementation (apache-arrow for JavaScript), plus the values they hold as JSON.
//
//   cd scripts/arrow-fixtures && npm ci && node make-fixtures.mjs ../../data/src/test/resources/arrow
//
// Files written (all hold the same 5 rows in 2 record batches, 3 + 2 rows):
//   js-stream.arrow      IPC stream format (what Hugging Face `datasets` writes)
//   js-stream-dictionary-replaced.arrow  the same, but batch 2 replaces the `label` dictionary
//   js-file.arrow        IPC file format ("ARROW1" magic, footer)
//   js-file.feather      the same bytes as js-file.arrow (Feather V2 is the IPC file format)
//   js-hf/               a save_to_disk-style folder: state.json, dataset_info.json,
//                        data-00000-of-00001.arrow (stream, large_string / large_list like HF can write)
//   js-expected.json     the rows as JSON, the values the Java reader must produce
import fs from 'node:fs';
import path from 'node:path';
import {
  Table, RecordBatch, Schema, Field, Struct, List, LargeList, Utf8, LargeUtf8, Int32, Int64, Float64,
  Bool, Dictionary, vectorFromArray, tableToIPC, makeData,
} from 'apache-arrow';

const out = process.argv[2];
if (!out) throw new Error('usage: node make-fixtures.mjs <output folder>');
fs.mkdirSync(path.join(out, 'js-hf'), { recursive: true });

const rows = [
  { text: 'Hello', messages: [{ role: 'user', content: 'Hi' }, { role: 'assistant', content: 'Hello!' }],
    score: 0.5, n: 1, flag: true, ids: [1, 2, 3], label: 'pos' },
  { text: 'Grüße, 世界 🌍', messages: [], score: -1.25, n: 2, flag: false, ids: [], label: 'neg' },
  { text: null, messages: [{ role: 'system', content: null }], score: null, n: 3, flag: null, ids: null, label: 'pos' },
  { text: 'line1\nline2 "quoted"', messages: null, score: 1e10, n: -9007199254740991, flag: true, ids: [2147483647, -2147483648], label: null },
  { text: '', messages: [{ role: 'user', content: 'a' }], score: 0, n: 0, flag: false, ids: [0], label: 'neu' },
];

const message = new Struct([new Field('role', new Utf8(), true), new Field('content', new Utf8(), true)]);
function types(large) {
  return {
    text: large ? new LargeUtf8() : new Utf8(),
    messages: large ? new LargeList(new Field('item', message, true)) : new List(new Field('item', message, true)),
    score: new Float64(),
    n: new Int64(),
    flag: new Bool(),
    ids: new List(new Field('item', new Int32(), true)),
    label: new Dictionary(new Utf8(), new Int32()),
  };
}

function columns(part, t) {
  const cols = {};
  for (const [name, type] of Object.entries(t)) {
    const values = part.map((r) => (name === 'n' && r[name] !== null ? BigInt(r[name]) : r[name]));
    cols[name] = vectorFromArray(values, type);
  }
  return new Table(cols);
}

// Two record batches (rows 0-2 and 3-4). With sharedDictionary the batches are slices of one table and
// share the `label` dictionary; otherwise each batch has its own, so a stream carries a replacement
// dictionary between the batches (the IPC file format forbids that).
function table(large, metadata, sharedDictionary = true) {
  const t = types(large);
  let batches;
  if (sharedDictionary) {
    const all = columns(rows, t);
    batches = [...all.slice(0, 3).batches, ...all.slice(3).batches];
  } else {
    batches = [...columns(rows.slice(0, 3), t).batches, ...columns(rows.slice(3), t).batches];
  }
  const fields = batches[0].schema.fields.map((f) => new Field(f.name, f.type, true));
  const schema = new Schema(fields, metadata);
  return new Table(schema, batches.map((b) => new RecordBatch(schema, b.data)));
}

fs.writeFileSync(path.join(out, 'js-stream.arrow'), tableToIPC(table(false), 'stream'));
fs.writeFileSync(path.join(out, 'js-stream-dictionary-replaced.arrow'), tableToIPC(table(false, undefined, false), 'stream'));
const file = tableToIPC(table(false), 'file');
fs.writeFileSync(path.join(out, 'js-file.arrow'), file);
fs.writeFileSync(path.join(out, 'js-file.feather'), file);

// A folder in the save_to_disk layout, as if Hugging Face datasets had written it.
const value = (dtype) => ({ dtype, _type: 'Value' });
const features = {
  text: value('large_string'),
  messages: { feature: { role: value('string'), content: value('string') }, _type: 'LargeList' },
  score: value('float64'),
  n: value('int64'),
  flag: value('bool'),
  ids: { feature: value('int32'), _type: 'Sequence' },
  label: value('string'),
};
const hfMeta = new Map([['huggingface', JSON.stringify({ info: { features } })]]);
fs.writeFileSync(path.join(out, 'js-hf', 'data-00000-of-00001.arrow'), tableToIPC(table(true, hfMeta), 'stream'));
fs.writeFileSync(path.join(out, 'js-hf', 'dataset_info.json'), JSON.stringify(
  { citation: '', description: '', features, homepage: '', license: '' }, null, 2));
fs.writeFileSync(path.join(out, 'js-hf', 'state.json'), JSON.stringify({
  _data_files: [{ filename: 'data-00000-of-00001.arrow' }], _fingerprint: '0123456789abcdef',
  _format_columns: null, _format_kwargs: {}, _format_type: null, _output_all_columns: false, _split: 'train',
}, null, 2));

fs.writeFileSync(path.join(out, 'js-expected.json'), JSON.stringify(rows, null, 2) + '\n');
console.log(`wrote fixtures to ${out}`);
