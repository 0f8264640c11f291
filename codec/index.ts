// Optional payload encryption (docs/reliability.md, "Encrypted histories").
export {
  AesGcmPayloadCodec,
  PayloadDecryptionError,
  ENCRYPTED_ENCODING,
  KEY_ID_METADATA_KEY,
  type CodecKey,
} from './aes-gcm';
export {
  codecFromEnv,
  dataConverterFromEnv,
  parseCodecKey,
  defaultKeyId,
  CodecConfigError,
  CODEC_KEY_VARIABLE,
  CODEC_KEY_ID_VARIABLE,
  CODEC_PREVIOUS_KEYS_VARIABLE,
} from './env';
export { startCodecServer, type CodecServer, type CodecServerOptions } from './server';
