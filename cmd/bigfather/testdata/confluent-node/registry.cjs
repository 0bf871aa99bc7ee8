// Drives Big Father's schema registry with the npm package @kafkajs/confluent-schema-registry, as a Node
// producer or consumer would: it registers an Avro and a Protobuf schema, encodes a record with each (magic byte
// 0, the 4-byte schema id, the payload), decodes it again, and reads each subject's latest id. It prints one JSON
// summary on stdout for TestConfluentNodeClient to assert.
//
// Environment: REGISTRY_URL (http://127.0.0.1:PORT), REGISTRY_USER and REGISTRY_PASSWORD (a user's Basic
// credentials), REGISTRY_TOKEN (a token, sent as the Basic password under the name "node-client") and
// REGISTRY_WRONG_PASSWORD. The package is found through NODE_PATH (the test sets it to the node_modules
// directory .ci/run installs into); nothing is installed here.
'use strict';

const assert = require('node:assert/strict');
const { SchemaRegistry, SchemaType } = require('@kafkajs/confluent-schema-registry');

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
};
const host = env('REGISTRY_URL');
// No retries: a refused request must show as it is.
const client = (username, password) => new SchemaRegistry({ host, auth: { username, password }, retry: { retries: 0 } });

const avroSchema = {
  type: 'record',
  name: 'Event',
  namespace: 'game',
  fields: [
    { name: 'event_id', type: 'string' },
    { name: 'level', type: 'int' },
    { name: 'amount', type: ['null', 'double'], default: null },
  ],
};
const avroRecord = { event_id: 'e-1', level: 7, amount: 9.5 };

const protoSchema = `syntax = "proto3";
package game;

message Purchase {
  string event_id = 1;
  int32 price_cents = 2;
  repeated string items = 3;
}
`;
// protobufjs, which the client parses .proto with, names fields in camelCase.
const protoRecord = { eventId: 'p-1', priceCents: 1999, items: ['sword', 'shield'] };

// roundTrip registers schema under subject (twice: the second time must find the same id), encodes and decodes
// record, and returns what the test asserts.
async function roundTrip(registry, reader, schema, subject, record, plain) {
  const { id } = await registry.register(schema, { subject });
  const again = await registry.register(schema, { subject });
  assert.equal(again.id, id, `registering the same ${schema.type} schema again under ${subject}`);
  const encoded = await registry.encode(id, record);
  // A fresh client, so the schema is fetched from the registry by id, not taken from the writer's cache.
  const decoded = plain(await reader.decode(encoded));
  assert.deepEqual(decoded, record, `${schema.type} round trip`);
  const latestId = await reader.getLatestSchemaId(subject);
  return { subject, id, again: again.id, latest_id: latestId, encoded: encoded.toString('hex'), decoded };
}

async function main() {
  const writer = client(env('REGISTRY_USER'), env('REGISTRY_PASSWORD'));
  const reader = client('node-client', env('REGISTRY_TOKEN'));
  const summary = {};
  summary.avro = await roundTrip(writer, reader, { type: SchemaType.AVRO, schema: JSON.stringify(avroSchema) },
    'node.events-value', avroRecord, (r) => ({ ...r }));
  summary.protobuf = await roundTrip(writer, reader, { type: SchemaType.PROTOBUF, schema: protoSchema },
    'node.purchases-value', protoRecord, (m) => m.toJSON());

  // A wrong password: the client reports the registry's 401.
  const wrong = client(env('REGISTRY_USER'), env('REGISTRY_WRONG_PASSWORD'));
  try {
    await wrong.getLatestSchemaId('node.events-value');
    summary.wrong_password = { error: 'none' };
  } catch (e) {
    summary.wrong_password = { name: e.name, status: e.status, unauthorized: e.unauthorized, message: e.message };
  }
  process.stdout.write(JSON.stringify(summary) + '\n');
}

main().catch((e) => {
  process.stderr.write(`registry.cjs: ${e && e.stack ? e.stack : e}\n`);
  process.exit(1);
});
