// The part of an OCI image's configuration (image-spec `config`) that decides how its
// containers run. Field names are the image spec's.

export interface ImageConfig {
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  Env?: string[] | null;
  WorkingDir?: string;
  User?: string;
}
