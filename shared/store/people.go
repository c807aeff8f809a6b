package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/portcommunity/cpu/shared/entity"
	"github.com/portcommunity/cpu/shared/people"
)

// Items of the console's people and of registration (contract §11):
//
//	person                     PERSON#<userId>            PERSON      gsi1: ENT#<entity> / PERSON#<email>
//	unique e-mail              UNQ#EMAIL#<folded email>   UNQ         (userId, passwordHash: not on the person, whose item the entity index projects)
//	sign-in guard              SIGNIN#<sha256 of e-mail>  GUARD       (unknown addresses too: no enumeration)
//	sign-in challenge (TTL)    CHAL#<challengeId>         CHAL
//	invitation                 INVITE#<sha256 of token>   INVITE
//	registration               REGN#<registrationId>      REGN        (the confirmation token's hash inside)
//	membership of an entity    ENT#<entityId>             MEMBER      gsi1: MEMBERS#<status> / <createdAt>#<entityId>
//	active admins of an entity ENT#<entityId>             ADMINS      (a count; never below one once set)
//	set-password token (TTL)   PWSET#<sha256 of token>    PWSET       (userId)
func personPK(id string) string        { return "PERSON#" + id }
func emailPK(email string) string      { return "UNQ#EMAIL#" + email }
func challengePK(id string) string     { return "CHAL#" + id }
func invitationPK(hash string) string  { return "INVITE#" + hash }
func registrationPK(id string) string  { return "REGN#" + id }
func membersGSI(status string) string  { return "MEMBERS#" + status }
func personListSK(email string) string { return "PERSON#" + email }

func passwordTokenPK(hash string) string { return "PWSET#" + hash }

const (
	skAdmins = "ADMINS"
	skPerson = "PERSON"
	skGuard  = "GUARD"
	skMember = "MEMBER"
)

func (s *Store) personItem(p people.Person) (map[string]types.AttributeValue, error) {
	item, err := attributevalue.MarshalMapWithOptions(p, jsonTags)
	if err != nil {
		return nil, err
	}
	item[attrPK], item[attrSK], item[attrItemType] = str(personPK(p.UserID)), str(skPerson), str("Person")
	item[attrGSI1PK], item[attrGSI1SK] = str(entityPK(p.EntityID)), str(personListSK(p.Email))
	// The password's hash is not here: this item is projected into the entity's index, which
	// many functions read. It lives on the e-mail's guard, which only sign-in reads.
	item["version"] = &types.AttributeValueMemberN{Value: strconv.Itoa(p.Version)}
	return item, nil
}

func personOf(item map[string]types.AttributeValue) (people.Person, error) {
	var p people.Person
	if err := attributevalue.UnmarshalMapWithOptions(item, &p, jsonTagsDecode); err != nil {
		return p, err
	}
	if n, ok := item["version"].(*types.AttributeValueMemberN); ok {
		p.Version, _ = strconv.Atoi(n.Value)
	}
	return p, nil
}

// personItems are the writes of a new person: the person, its e-mail's guard, and the entity's
// count of active admins when it is one.
func (s *Store) personItems(p people.Person) ([]types.TransactWriteItem, error) {
	item, err := s.personItem(p)
	if err != nil {
		return nil, err
	}
	guard := key(emailPK(p.Email), skUnique)
	guard["userId"], guard[attrItemType] = str(p.UserID), str("Unique")
	if p.PasswordHash != "" {
		guard["passwordHash"] = str(p.PasswordHash)
	}
	items := []types.TransactWriteItem{s.putNew(item), s.putNew(guard)}
	for _, role := range p.Platform {
		holder := key("PLATFORM#"+role, p.UserID)
		holder[attrItemType] = str("PlatformRole")
		items = append(items, types.TransactWriteItem{Put: &types.Put{TableName: &s.table, Item: holder}})
	}
	if p.ActiveAdmin() {
		items = append(items, s.adminCount(p.EntityID, 1))
	}
	return items, nil
}

// adminCount moves an entity's count of active admins; taking one away is conditioned on another
// remaining (contract §11: the last admin stays), so two admins demoting each other at once
// cannot leave none.
func (s *Store) adminCount(entityID string, delta int) types.TransactWriteItem {
	u := &types.Update{TableName: &s.table, Key: key(entityPK(entityID), skAdmins),
		UpdateExpression:          aws.String("ADD admins :d"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":d": num(int64(delta))}}
	if delta < 0 {
		u.ConditionExpression = aws.String("admins > :one")
		u.ExpressionAttributeValues[":one"] = num(1)
	}
	return types.TransactWriteItem{Update: u}
}

// ChangePerson writes a person's new state (conditioned on the version read) and moves the
// entity's admin count with it: people.ErrLastAdmin when it would leave the entity without an
// active admin, people.ErrStale when the person changed meanwhile.
func (s *Store) ChangePerson(ctx context.Context, before, after people.Person) error {
	after.Version = before.Version + 1
	item, err := s.personItem(after)
	if err != nil {
		return err
	}
	items := []types.TransactWriteItem{{Put: &types.Put{TableName: &s.table, Item: item, ConditionExpression: aws.String("version = :v"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":v": num(int64(before.Version))}}}}
	switch {
	case before.ActiveAdmin() && !after.ActiveAdmin():
		items = append(items, s.adminCount(after.EntityID, -1))
	case !before.ActiveAdmin() && after.ActiveAdmin():
		items = append(items, s.adminCount(after.EntityID, 1))
	}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	var tce *types.TransactionCanceledException
	if errors.As(err, &tce) {
		if len(tce.CancellationReasons) == 2 && aws.ToString(tce.CancellationReasons[1].Code) == "ConditionalCheckFailed" {
			return people.ErrLastAdmin
		}
		return people.ErrStale
	}
	return err
}

// PasswordTokenOwner reads whose a set-password token is, if it exists and has not expired,
// without spending it (people.ErrNotFound otherwise).
func (s *Store) PasswordTokenOwner(ctx context.Context, tokenHash string, now time.Time) (string, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: key(passwordTokenPK(tokenHash), "PWSET"), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return "", err
	}
	if out.Item == nil || sVal(out.Item["expires"]) <= now.UTC().Format(time.RFC3339Nano) {
		return "", people.ErrNotFound
	}
	return sVal(out.Item["userId"]), nil
}

// ActivateWithToken spends a set-password token and writes the person's new state in one
// transaction: the token is gone exactly when the password is set (people.ErrStale when the token
// was spent or the person changed meanwhile).
func (s *Store) ActivateWithToken(ctx context.Context, before, after people.Person, tokenHash string, now time.Time) error {
	after.Version = before.Version + 1
	item, err := s.personItem(after)
	if err != nil {
		return err
	}
	items := []types.TransactWriteItem{
		{Delete: &types.Delete{TableName: &s.table, Key: key(passwordTokenPK(tokenHash), "PWSET"),
			ConditionExpression:       aws.String("attribute_exists(pk) AND expires > :now AND userId = :u"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":now": str(now.UTC().Format(time.RFC3339Nano)), ":u": str(before.UserID)}}},
		{Put: &types.Put{TableName: &s.table, Item: item, ConditionExpression: aws.String("version = :v"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":v": num(int64(before.Version))}}},
	}
	items = append(items, types.TransactWriteItem{Update: &types.Update{TableName: &s.table, Key: key(emailPK(after.Email), skUnique),
		UpdateExpression: aws.String("SET passwordHash = :h"), ConditionExpression: aws.String("userId = :u"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":h": str(after.PasswordHash), ":u": str(after.UserID)}}})
	if !before.ActiveAdmin() && after.ActiveAdmin() {
		items = append(items, s.adminCount(after.EntityID, 1))
	}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	var tce *types.TransactionCanceledException
	if errors.As(err, &tce) {
		return people.ErrStale
	}
	return err
}

// PutPasswordToken stores a set-password link's token hash for a person (TTL at its expiry).
func (s *Store) PutPasswordToken(ctx context.Context, tokenHash, userID string, expires time.Time) error {
	item := key(passwordTokenPK(tokenHash), "PWSET")
	item["userId"], item[attrItemType] = str(userID), str("PasswordToken")
	item["expires"] = str(expires.UTC().Format(time.RFC3339Nano))
	item["expiresAt"] = num(expires.Unix())
	_, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: item, ConditionExpression: aws.String("attribute_not_exists(pk)")})
	return err
}

// CreatePerson writes a person; a taken e-mail is ErrDuplicate{email}.
func (s *Store) CreatePerson(ctx context.Context, p people.Person) error {
	items, err := s.personItems(p)
	if err != nil {
		return err
	}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	if dup := duplicateOf(err, []ErrDuplicate{{"userId", p.UserID}, {"email", p.Email}}); dup != nil {
		return dup
	}
	return err
}

// Person reads a person by id (ErrNotFound when none).
func (s *Store) Person(ctx context.Context, userID string) (people.Person, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: key(personPK(userID), skPerson), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return people.Person{}, err
	}
	if out.Item == nil {
		return people.Person{}, people.ErrNotFound
	}
	return personOf(out.Item)
}

// PersonByEmail reads a person by folded e-mail (ErrNotFound when none): the e-mail's guard, then
// the person.
func (s *Store) PersonByEmail(ctx context.Context, email string) (people.Person, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: key(emailPK(email), skUnique), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return people.Person{}, err
	}
	if out.Item == nil {
		return people.Person{}, people.ErrNotFound
	}
	p, err := s.Person(ctx, sVal(out.Item["userId"]))
	p.PasswordHash = sVal(out.Item["passwordHash"])
	return p, err
}

// PeopleOf lists an entity's people by e-mail (one Query; an entity has at most a few hundred).
func (s *Store) PeopleOf(ctx context.Context, entityID string) ([]people.Person, error) {
	var out []people.Person
	err := s.query(ctx, &dynamodb.QueryInput{
		TableName: &s.table, IndexName: aws.String(gsi1),
		KeyConditionExpression:    aws.String("gsi1pk = :p AND begins_with(gsi1sk, :s)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": str(entityPK(entityID)), ":s": str("PERSON#")},
	}, func(it map[string]types.AttributeValue) error {
		p, err := personOf(it)
		out = append(out, p)
		return err
	})
	return out, err
}

func signInPK(emailHash string) string { return "SIGNIN#" + emailHash }

// SignInGuard reads an address's wrong-password guard and its version (0 when none).
func (s *Store) SignInGuard(ctx context.Context, emailHash string) (people.Guard, int, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: key(signInPK(emailHash), skGuard), ConsistentRead: aws.Bool(true)})
	if err != nil || out.Item == nil {
		return people.Guard{}, 0, err
	}
	var g people.Guard
	err = attributevalue.UnmarshalMapWithOptions(out.Item, &g, jsonTagsDecode)
	v, _ := strconv.Atoi(nVal(out.Item["version"]))
	return g, v, err
}

// PutSignInGuard writes the guard if its version is still the one read; it expires with its
// window (TTL).
func (s *Store) PutSignInGuard(ctx context.Context, emailHash string, g people.Guard, read int) error {
	item, err := attributevalue.MarshalMapWithOptions(g, jsonTags)
	if err != nil {
		return err
	}
	item[attrPK], item[attrSK], item[attrItemType] = str(signInPK(emailHash)), str(skGuard), str("SignInGuard")
	item["version"] = &types.AttributeValueMemberN{Value: strconv.Itoa(read + 1)}
	item["expiresAt"] = num(g.Until().Unix())
	return s.putVersioned(ctx, item, read)
}

// PutChallenge writes a sign-in challenge, removed by TTL after it expires.
func (s *Store) PutChallenge(ctx context.Context, c people.Challenge) error {
	item, err := attributevalue.MarshalMapWithOptions(c, jsonTags)
	if err != nil {
		return err
	}
	item[attrPK], item[attrSK], item[attrItemType] = str(challengePK(c.ID)), str("CHAL"), str("Challenge")
	item["expiresAt"] = &types.AttributeValueMemberN{Value: strconv.FormatInt(c.Expires.Add(time.Hour).Unix(), 10)}
	item["version"] = &types.AttributeValueMemberN{Value: strconv.Itoa(c.Attempts)}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: item, ConditionExpression: aws.String("attribute_not_exists(pk)")})
	return err
}

// Challenge reads a sign-in challenge (ErrNotFound when none).
func (s *Store) Challenge(ctx context.Context, id string) (people.Challenge, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: key(challengePK(id), "CHAL"), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return people.Challenge{}, err
	}
	if out.Item == nil {
		return people.Challenge{}, people.ErrNotFound
	}
	var c people.Challenge
	return c, attributevalue.UnmarshalMapWithOptions(out.Item, &c, jsonTagsDecode)
}

// SpendChallenge counts an attempt at a challenge (and marks it used when it succeeded), if no
// other attempt counted since it was read: two attempts at once cannot both pass.
func (s *Store) SpendChallenge(ctx context.Context, c people.Challenge, used bool) error {
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.table, Key: key(challengePK(c.ID), "CHAL"),
		UpdateExpression:          aws.String("SET attempts = attempts + :one, used = :u, version = version + :one"),
		ConditionExpression:       aws.String("version = :v AND used = :f"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":one": num(1), ":u": &types.AttributeValueMemberBOOL{Value: used}, ":v": num(int64(c.Attempts)), ":f": &types.AttributeValueMemberBOOL{Value: false}},
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return people.ErrStale
	}
	return err
}

// PutInvitation stores an invitation under its token's hash.
func (s *Store) PutInvitation(ctx context.Context, inv people.Invitation) error {
	item, err := attributevalue.MarshalMapWithOptions(inv, jsonTags)
	if err != nil {
		return err
	}
	item[attrPK], item[attrSK], item[attrItemType] = str(invitationPK(inv.TokenHash)), str("INVITE"), str("Invitation")
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: item, ConditionExpression: aws.String("attribute_not_exists(pk)")})
	return err
}

// Invitation reads an invitation by its token's hash (ErrNotFound when none).
func (s *Store) Invitation(ctx context.Context, tokenHash string) (people.Invitation, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: key(invitationPK(tokenHash), "INVITE"), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return people.Invitation{}, err
	}
	if out.Item == nil {
		return people.Invitation{}, people.ErrNotFound
	}
	var inv people.Invitation
	return inv, attributevalue.UnmarshalMapWithOptions(out.Item, &inv, jsonTagsDecode)
}

// StartRegistration stores a registration and spends its invitation in one transaction (the
// invitation conditioned on being unused): a token registers once.
func (s *Store) StartRegistration(ctx context.Context, r people.Registration) error {
	item, err := attributevalue.MarshalMapWithOptions(r, jsonTags)
	if err != nil {
		return err
	}
	item[attrPK], item[attrSK], item[attrItemType] = str(registrationPK(r.ID)), str("REGN"), str("Registration")
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		s.putNew(item),
		{Update: &types.Update{TableName: &s.table, Key: key(invitationPK(r.InvitationHash), "INVITE"),
			UpdateExpression:          aws.String("SET used = :t, registrationId = :r"),
			ConditionExpression:       aws.String("attribute_exists(pk) AND used = :f"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":t": &types.AttributeValueMemberBOOL{Value: true}, ":f": &types.AttributeValueMemberBOOL{Value: false}, ":r": str(r.ID)}}},
	}})
	var tce *types.TransactionCanceledException
	if errors.As(err, &tce) {
		return people.ErrStale
	}
	return err
}

// Registration reads a registration (ErrNotFound when none).
func (s *Store) Registration(ctx context.Context, id string) (people.Registration, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: key(registrationPK(id), "REGN"), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return people.Registration{}, err
	}
	if out.Item == nil {
		return people.Registration{}, people.ErrNotFound
	}
	var r people.Registration
	return r, attributevalue.UnmarshalMapWithOptions(out.Item, &r, jsonTagsDecode)
}

// CompleteRegistration creates the entity (with its registry entries and uniqueness guards), its
// first person, and its membership pending approval, and marks the registration confirmed, in one
// transaction: a duplicate VAT, name or e-mail, or a registration confirmed meanwhile, writes
// nothing (ErrDuplicate naming the field, or ErrStale).
func (s *Store) CompleteRegistration(ctx context.Context, r people.Registration, e entity.Entity, p people.Person, m people.Membership) error {
	items, fields, err := s.registerItems(e, nil)
	if err != nil {
		return err
	}
	// One meaning per item, in the items' order: the registry's index items carry no condition.
	for len(fields) < len(items) {
		fields = append(fields, ErrDuplicate{"registry", e.NxtEntityID})
	}
	pItems, err := s.personItems(p)
	if err != nil {
		return err
	}
	items = append(items, pItems...)
	fields = append(fields, ErrDuplicate{"userId", p.UserID}, ErrDuplicate{"email", p.Email})
	for len(fields) < len(items) {
		fields = append(fields, ErrDuplicate{"admins", e.NxtEntityID}) // the admin count: no condition
	}
	mItem, err := s.membershipItem(m)
	if err != nil {
		return err
	}
	items = append(items, s.putNew(mItem), types.TransactWriteItem{Update: &types.Update{TableName: &s.table, Key: key(registrationPK(r.ID), "REGN"),
		UpdateExpression:          aws.String("SET #s = :c, entityId = :e"),
		ConditionExpression:       aws.String("#s = :p"),
		ExpressionAttributeNames:  map[string]string{"#s": "status"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":c": str(people.RegistrationConfirmed), ":p": str(people.RegistrationPending), ":e": str(e.NxtEntityID)}}})
	fields = append(fields, ErrDuplicate{"membership", e.NxtEntityID})
	if len(items) > maxTransactItems {
		return fmt.Errorf("a registration of %d items does not fit one transaction", len(items))
	}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	var tce *types.TransactionCanceledException
	if errors.As(err, &tce) {
		if last := tce.CancellationReasons; len(last) == len(items) && aws.ToString(last[len(last)-1].Code) == "ConditionalCheckFailed" {
			return people.ErrStale
		}
		if dup := duplicateOf(err, fields); dup != nil {
			return dup
		}
	}
	return err
}

func (s *Store) membershipItem(m people.Membership) (map[string]types.AttributeValue, error) {
	item, err := attributevalue.MarshalMapWithOptions(m, jsonTags)
	if err != nil {
		return nil, err
	}
	item[attrPK], item[attrSK], item[attrItemType] = str(entityPK(m.EntityID)), str(skMember), str("Membership")
	item[attrGSI1PK], item[attrGSI1SK] = str(membersGSI(m.Status)), str(m.CreatedAt.UTC().Format(time.RFC3339Nano)+"#"+m.EntityID)
	item["version"] = num(int64(m.Version))
	return item, nil
}

// Membership reads an entity's community membership; an entity without one (onboarded by support,
// the seed) is approved.
func (s *Store) Membership(ctx context.Context, entityID string) (people.Membership, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: key(entityPK(entityID), skMember), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return people.Membership{}, err
	}
	if out.Item == nil {
		return people.Membership{EntityID: entityID, Status: people.MemberApproved}, nil
	}
	var m people.Membership
	err = attributevalue.UnmarshalMapWithOptions(out.Item, &m, jsonTagsDecode)
	m.Version, _ = strconv.Atoi(nVal(out.Item["version"]))
	return m, err
}

// DecideMembership writes an approval or rejection if the membership is still the version read.
func (s *Store) DecideMembership(ctx context.Context, m people.Membership) error {
	read := m.Version
	m.Version++
	item, err := s.membershipItem(m)
	if err != nil {
		return err
	}
	return s.putVersioned(ctx, item, read)
}

// Memberships lists the memberships in a status, oldest first (the community administrator's
// queue of approvals): one Query on the index.
func (s *Store) Memberships(ctx context.Context, status string, limit int) ([]people.Membership, error) {
	out, err := s.db.Query(ctx, &dynamodb.QueryInput{
		TableName: &s.table, IndexName: aws.String(gsi1),
		KeyConditionExpression:    aws.String("gsi1pk = :p"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": str(membersGSI(status))},
		Limit:                     aws.Int32(int32(limit)),
	})
	if err != nil {
		return nil, err
	}
	ms := make([]people.Membership, len(out.Items))
	for i, it := range out.Items {
		if err := attributevalue.UnmarshalMapWithOptions(it, &ms[i], jsonTagsDecode); err != nil {
			return nil, err
		}
		ms[i].Version, _ = strconv.Atoi(nVal(it["version"]))
	}
	return ms, nil
}

func (s *Store) putVersioned(ctx context.Context, item map[string]types.AttributeValue, read int) error {
	cond := "attribute_not_exists(pk) OR version = :v"
	_, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: item, ConditionExpression: aws.String(cond),
		ExpressionAttributeValues: map[string]types.AttributeValue{":v": num(int64(read))}})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return people.ErrStale
	}
	return err
}

func nVal(v types.AttributeValue) string {
	if n, ok := v.(*types.AttributeValueMemberN); ok {
		return n.Value
	}
	return "0"
}

// Taken tells whether a VAT number or a (folded) company name is registered already, naming the
// field and the entity that holds it (two GetItems on the uniqueness guards).
func (s *Store) Taken(ctx context.Context, vat, name string) (field, entityID string, err error) {
	for _, g := range []struct{ field, pk string }{{"vat", uniqueVATPK(vat)}, {"name", uniqueNamePK(entity.FoldName(name))}} {
		out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: key(g.pk, skUnique), ConsistentRead: aws.Bool(true)})
		if err != nil {
			return "", "", err
		}
		if out.Item != nil {
			return g.field, sVal(out.Item["entityId"]), nil
		}
	}
	return "", "", nil
}
