// Package fuzz holds no production code: its fuzz tests feed arbitrary requests to the request
// decoders (E1, E3, E4 bodies, E6 and E7 query strings, the token endpoint's form and Basic
// header), each through the real handler behind apigw.Lambda and the real storage adapter
// (shared/store) over an in-memory DynamoDB that refuses what DynamoDB refuses. Every answer must
// be a 2xx or a 4xx problem+json document; what is accepted must keep the documented limits.
//
// `make fuzz` runs each target for a number of generated inputs; `make test` runs the seed
// corpora only, as ordinary tests.
package fuzz
