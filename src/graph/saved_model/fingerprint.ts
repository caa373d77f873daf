/**
 * A SavedModel's fingerprint.pb (TensorFlow's FingerprintDef), read on load and written on
 * save. Its saved_model_checksum is FarmHash's Fingerprint64 of saved_model.pb as TensorFlow's
 * C++ re-serialises it deterministically after parsing (fingerprinting.cc, HashSavedModel),
 * not of the file's bytes (canonical.ts makes those bytes); checkpoint_hash is the
 * Fingerprint64 of variables/variables.index.
 * @module
 */
import { fingerprint64 } from "../../io/farmhash.ts";
import { parseMessage, ProtoWriter, WireType } from "../../io/protobuf.ts";
import { canonicalSavedModel } from "./canonical.ts";

/** TensorFlow's saved_model_checksum of saved_model.pb's bytes. */
export function savedModelChecksum(pb: Uint8Array, what: string): bigint {
  return fingerprint64(canonicalSavedModel(pb, what));
}

/** The fields of fingerprint.pb this library reads and writes (0: absent). */
export interface Fingerprint {
  savedModelChecksum: bigint;
  checkpointHash: bigint;
}

/** FingerprintDef's field numbers (fingerprint.proto). */
const FINGERPRINT = { checksum: 1, checkpointHash: 5, version: 6, uuid: 7 } as const;
/** VersionDef.producer TensorFlow 2.21 writes for a saved_model.pb fingerprint. */
const PRODUCER = 4;

export function decodeFingerprint(bytes: Uint8Array, what: string): Fingerprint {
  const out: Fingerprint = { savedModelChecksum: 0n, checkpointHash: 0n };
  for (const f of parseMessage(bytes, what)) {
    if (f.wire !== WireType.VARINT) continue;
    if (f.field === FINGERPRINT.checksum) out.savedModelChecksum = f.int;
    if (f.field === FINGERPRINT.checkpointHash) out.checkpointHash = f.int;
  }
  return out;
}

/**
 * fingerprint.pb for a model this library writes: the checksum of `pb`, the checkpoint hash
 * of `index` and a random UUID, as TensorFlow fills them. The regularised program hashes
 * (graph_def_program_hash, signature_def_hash, saved_object_graph_hash) are left out: they
 * serve TensorFlow's model tracking, not loading, and TensorFlow loads the model without them.
 */
export function encodeFingerprint(pb: Uint8Array, index: Uint8Array, what: string): Uint8Array {
  const uuid = BigInt(`0x${crypto.randomUUID().replaceAll("-", "")}`).toString();
  return new ProtoWriter()
    .varint(FINGERPRINT.checksum, savedModelChecksum(pb, what))
    .varint(FINGERPRINT.checkpointHash, fingerprint64(index))
    .message(FINGERPRINT.version, (v) => v.varint(1, PRODUCER))
    .string(FINGERPRINT.uuid, uuid)
    .finish();
}
