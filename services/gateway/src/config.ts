import { Type, type Static } from 'typebox';
import { HttpConfig, InternalApiConfig, KafkaConfig, LogConfig, MongoConfig, RedisConfig, StagesConfig, TelemetryConfig } from '@trackme/platform';

export const GatewayConfigSchema = Type.Object({
  ...LogConfig,
  ...HttpConfig(8080),
  ...KafkaConfig,
  ...RedisConfig,
  ...MongoConfig,
  ...TelemetryConfig,
  ...InternalApiConfig,
  ...StagesConfig,
  BASE_PATH: Type.String({ default: '/api/v1', pattern: '^(/[A-Za-z0-9._~-]+)*$', description: 'Prefix of every public API route' }),
  READ_URL: Type.String({ default: 'http://127.0.0.1:8082', pattern: '^https?://', description: 'Internal URL of the read service' }),
  METRICS_URL: Type.String({ default: 'http://127.0.0.1:8083', pattern: '^https?://', description: 'Internal URL of the metrics service' }),
  WRITE_TIMEOUT_MS: Type.Integer({
    default: 5_000,
    minimum: 100,
    maximum: 60_000,
    description: 'How long a write waits for its reply before answering 202 with an operation, and POST /events for Kafka before answering 503',
  }),
  LIST_CACHE_MS: Type.Integer({
    default: 200,
    minimum: 0,
    maximum: 500,
    description:
      "How long the gateway keeps a list page the read service served from its cache (0: not at all): a change shows in lists up to this much later. A write through this gateway drops them at once",
  }),
  IDEMPOTENCY_TTL_HOURS: Type.Integer({ default: 24, minimum: 24, maximum: 720, description: 'How long Idempotency-Key outcomes are kept' }),
  CORS_ORIGINS: Type.String({
    default: '',
    pattern: '^(https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?(,https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?)*)?$',
    description: 'Comma-separated origins (scheme://host[:port]) allowed to call the API from a browser; empty: none',
  }),
  AUTH_MODE: Type.Union([Type.Literal('jwt'), Type.Literal('disabled')], {
    default: 'jwt',
    description: 'jwt: every API route needs a bearer token; disabled: nobody is checked (development only, warned at every start)',
  }),
  JWT_SECRET: Type.Optional(Type.String({ minLength: 32, description: 'HS256 key of the bearer tokens (at least 32 characters); a secret, keep it out of git' })),
  JWKS_URL: Type.Optional(Type.String({ pattern: '^https?://', description: 'JWKS of the RS256 / ES256 / EdDSA keys that sign bearer tokens' })),
  JWT_ISSUER: Type.String({ default: 'trackme', minLength: 1, description: 'Required `iss` of bearer tokens' }),
  JWT_AUDIENCE: Type.String({ default: 'trackme-api', minLength: 1, description: 'Required `aud` of bearer tokens' }),
  AUTH_SIGNING_KEY: Type.Optional(
    Type.String({
      minLength: 1,
      description:
        'Private key (Ed25519 or P-256; PKCS#8 PEM or JWK) that signs the access tokens of POST /auth/login, whose public half is served at /.well-known/jwks.json; a secret. Without it users cannot sign in',
    }),
  ),
  AUTH_SELF_REGISTRATION: Type.Boolean({ default: false, description: 'true: anyone may POST /auth/register, as a manager; false: it needs an admin or super_user token' }),
  REFRESH_TOKEN_TTL_DAYS: Type.Integer({ default: 14, minimum: 1, maximum: 90, description: 'How long an unused refresh token stays valid (each use rotates it)' }),
  LOGIN_FAILURES_PER_ACCOUNT: Type.Integer({ default: 5, minimum: 1, maximum: 1_000, description: 'Failed sign-ins of one email per window before 429' }),
  LOGIN_FAILURES_PER_ADDRESS: Type.Integer({
    default: 50,
    minimum: 1,
    maximum: 100_000,
    description: 'Failed sign-ins, refused refresh tokens and self-registrations from one IP per window before 429',
  }),
  LOGIN_THROTTLE_KEY_PREFIX: Type.String({
    default: 'trackme:signin:',
    minLength: 1,
    pattern: '^[A-Za-z0-9:._-]+$',
    description: 'Prefix of the Redis keys counting failed sign-ins (gateways sharing one keep the same counts)',
  }),
  LOGIN_FAILURE_WINDOW_SECONDS: Type.Integer({ default: 900, minimum: 1, maximum: 86_400, description: 'Window of the sign-in failure counts, from the first failure' }),
  RATE_LIMIT_PER_CALLER: Type.Integer({ default: 6_000, minimum: 0, maximum: 1_000_000, description: 'Requests per window of one authenticated caller (token subject) before 429; 0: no limit' }),
  RATE_LIMIT_PER_ADDRESS: Type.Integer({ default: 120, minimum: 0, maximum: 1_000_000, description: 'Requests per window from one IP without a valid token before 429; 0: no limit' }),
  RATE_LIMIT_NO_CACHE_PER_CALLER: Type.Integer({ default: 30, minimum: 0, maximum: 1_000_000, description: 'Reads per window of one caller with Cache-Control: no-cache (they skip the caches and reach Mongo) before 429; 0: no limit' }),
  RATE_LIMIT_WINDOW_SECONDS: Type.Integer({ default: 60, minimum: 1, maximum: 3_600, description: 'Length of the rate-limit window' }),
  JOB_RETENTION_DAYS: Type.Integer({ default: 7, minimum: 1, maximum: 365, description: 'How long a finished bulk job and its item report are kept (GET /jobs/{id})' }),
  JOB_WINDOW: Type.Integer({
    default: 64,
    minimum: 1,
    maximum: 1_000,
    description: "Job items one gateway keeps in flight at once: the lane that keeps a job's commands from crowding out interactive writes",
  }),
  JOB_LEASE_MS: Type.Integer({
    default: 15_000,
    minimum: 1_000,
    maximum: 600_000,
    description: 'How long a job stays with the gateway running it without news from it: a job whose gateway died resumes elsewhere after this',
  }),
  IMPORT_MAX_BYTES: Type.Integer({ default: 52_428_800, minimum: 1_024, maximum: 1_073_741_824, description: 'Largest file POST /clients/import accepts (413 above it)' }),
  CONSOLE_ENABLED: Type.Boolean({ default: true, description: 'false: no console routes at all under {BASE_PATH}/console (an API-only gateway); browser sign-in stays' }),
  CONSOLE_DIR: Type.Optional(
    Type.String({
      minLength: 1,
      description: 'Folder of the built web console, served under {BASE_PATH}/console (default: web/dist of this checkout when built; one without index.html stops the start)',
    }),
  ),
  BODY_LIMIT_BYTES: Type.Integer({ default: 262_144, minimum: 1_024, maximum: 10_485_760, description: 'Largest accepted request body (POST /events: always 512 KiB)' }),
});

export type GatewayConfig = Static<typeof GatewayConfigSchema>;
