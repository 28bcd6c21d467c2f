export declare function pinnedVersion(root?: string): string;
export declare function compareVersions(a: string, b: string): number;
export declare function cacheRoot(env?: NodeJS.ProcessEnv): string;
export declare function provisionNode(options: {
  version: string;
  root?: string;
  env?: NodeJS.ProcessEnv;
  install?: (version: string, target: string, env: NodeJS.ProcessEnv) => Promise<string>;
  log?: (message: string) => void;
}): Promise<string>;
export declare function linkLocal(home: string, root?: string): void;
