// Package store is the DynamoDB adapter of the single table. Every item has a string pk and sk.
// gsi1 is an overloaded index; the four notification indexes (nr, nl, nc, ne) serve E7 and are
// sparse: an item has an index's keys only when it has the value. Item layouts:
//
//	what                     pk                                  sk                              index keys
//	entity profile           ENT#<nxtEntityId>                   PROFILE                         gsi1: ENTITIES / <folded name>#<id>
//	unique VAT               UNQ#VAT#<vat>                       UNQ
//	unique name              UNQ#NAME#<folded name>              UNQ
//	terminal code            TERM#<code>                         TERM
//	registry by identifier   REG#<VAT|EORI|DUNS|APCS|SCAC>#v     ENT#<id>
//	registry by name gram    REG#NG#<first rune>                 <trigram>#<id>
//	client                   CLIENT#<clientId>                   CLIENT                          gsi1: ENT#<id> / CLIENT#<clientId>
//	subscription key         KEY#<sha256 of key>                 KEY                             gsi1: ENT#<id> / KEY#<env>#<api>#<prefix>
//	ingestion id             INGEST#<guid>                       INGEST                          gsi1: ENT#<id> / INGEST#<env>
//	active release           REL#<port>#<container>              ACTIVE#<carrier>#<B/L key>      gsi1: EXP#<day> / <expiry>#<releaseId> (until expired)
//	archived release         REL#<port>#<container>              ARCHIVED#<releaseId>
//	outcome (audit, outbox)  REL#<port>#<container>              OUT#<publicRefId>#<item>
//	chain of custody hop     REL#<port>#<container>              HOP#<releaseId>#<seq>
//	release id of a carrier  RID#<carrier>#<releaseIdentification>  RID
//	right membership (E2)    RIGHTS#<entity>                     <port>#<container>#<releaseId>
//	right counter shard      RIGHTS#<entity>                     #COUNT#<port>#<shard>
//	notification (TTL 168 h) NOTIF#<receiver>                    <storedOn>#<ref>#<item>#<n>     nr: NR#<ref> / <receiver>#<sk>
//	                                                                                             ne: NE#<receiver>#<event> / <sk>
//	                                                                                             nc: NC#<receiver>#<container> / <sk> (when it has one)
//	                                                                                             nl: NL#<releaseId> / <receiver>#<sk> (when it has one)
//	failed client auth (TTL) AUTHFAIL#<sha256 of clientId>       IP#<sourceIp>
//	acceptance (TTL 24 h)    ACCEPT#REF#<ref> or ACCEPT#IDEM#<clientId>#<sha256 of key>  ACCEPT
//	acceptance queued mark   (the acceptance's pk)               QUEUED#<ref>
//	failed attempts (TTL)    ATTEMPT#<queue messageId>           ATTEMPT
//
// Failed client authentications (the token endpoint's slow-down) hold failures, windowEndMs,
// blockedUntilMs, clientId (at most 128 characters) and sourceIp; expiresAt is the end of their
// 15-minute window, and readers judge them by windowEndMs, since TTL removes items late.
//
// The registry items carry the entity's summary (registry.Summary), so that a search applies every
// filter and sorts by name from one Query, and reads full profiles for one page only.
package store

import "strings"

const (
	attrPK     = "pk"
	attrSK     = "sk"
	attrGSI1PK = "gsi1pk"
	attrGSI1SK = "gsi1sk"
	// attrItemType says what an item is (Entity, Release, Outcome, Notification, …); the stream filter of
	// the notifier selects on it. It must not clash with a field of any stored type.
	attrItemType = "itemType"
	gsi1         = "gsi1"

	skProfile = "PROFILE"
	skUnique  = "UNQ"
	skClient  = "CLIENT"
	skKey     = "KEY"
	skIngest  = "INGEST"

	gsiEntities = "ENTITIES"
)

func entityPK(id string) string             { return "ENT#" + id }
func uniqueVATPK(vat string) string         { return "UNQ#VAT#" + vat }
func uniqueNamePK(folded string) string     { return "UNQ#NAME#" + folded }
func registryPK(kind, v string) string      { return "REG#" + kind + "#" + v }
func gramPK(gram string) string             { return "REG#NG#" + string([]rune(gram)[:1]) }
func gramSK(gram, id string) string         { return gram + "#" + id }
func clientPK(id string) string             { return "CLIENT#" + id }
func keyPK(hash string) string              { return "KEY#" + hash }
func ingestPK(id string) string             { return "INGEST#" + strings.ToLower(id) }
func entityListSK(folded, id string) string { return folded + "#" + id }
func terminalPK(code string) string         { return "TERM#" + code }
