/** The one import path for configuration, so importers do not depend on how src/config/ is cut. */
export type { AvatarDelivery, Config, ConfigNeeds, ZapiInstance } from './config/config-types.js';
export { configSchema } from './config/env-schema.js';
export { ConfigError, loadConfig } from './config/load-config.js';
