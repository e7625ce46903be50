// The REST client (issue 3) lives in this folder.
export {};
