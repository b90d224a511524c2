package main

import (
	"strings"
	"unicode"

	"google.golang.org/protobuf/types/known/timestamppb"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/bulletin"
	"github.com/oas-cicte/iant/pkg/region"
)

// The CLI converts between the wire bulletin and pkg/bulletin only for the
// interop commands (export, import, feed), whose mappings take a
// bulletin.Bulletin. The enums' numbers equal the wire enums'.

func fromProto(p *iantv1.Bulletin) bulletin.Bulletin {
	b := bulletin.Bulletin{
		ID: p.GetId(), Origin: p.GetOrigin(), Author: p.GetAuthor(),
		Precedence: bulletin.Precedence(p.GetPrecedence()), Category: bulletin.Category(p.GetCategory()),
		Grading:  bulletin.Grading{Reliability: int(p.GetSourceGrading().GetReliability()), Credibility: int(p.GetSourceGrading().GetCredibility())},
		Language: bulletin.Language(p.GetLanguage()), Marking: bulletin.Marking(p.GetMarking()),
		Title: p.GetTitle(), Body: p.GetBody(), Revises: p.GetRevises(), Supersedes: p.GetSupersedes(),
		Revoked: p.GetRevoked(), Recipients: p.GetRecipients(), Conditions: p.GetConditions(),
		Releasability: bulletin.Releasability{States: p.GetReleasability().GetStates(), All: p.GetReleasability().GetAll()},
	}
	if p.GetCreateTime() != nil {
		b.CreatedAt = p.GetCreateTime().AsTime()
	}
	b.Revision = int(p.GetRevision())
	if p.GetFirstCreateTime() != nil {
		b.FirstCreatedAt = p.GetFirstCreateTime().AsTime()
	}
	if rv := p.GetRevocation(); rv != nil {
		b.Revocation = &bulletin.Revocation{Reason: rv.GetReason(), By: rv.GetRevokedBy(), Narrowed: rv.GetNarrowed()}
		if rv.GetRevokeTime() != nil {
			b.Revocation.At = rv.GetRevokeTime().AsTime()
		}
	}
	if rp := p.GetReply(); rp != nil {
		b.Reply = &bulletin.Reply{Kind: bulletin.ReplyKind(rp.GetKind()),
			InReplyTo: bulletin.Ref{Origin: rp.GetInReplyTo().GetOrigin(), ID: rp.GetInReplyTo().GetId()}}
	}
	if p.GetExpireTime() != nil {
		b.ExpiresAt = p.GetExpireTime().AsTime()
	}
	for _, r := range p.GetReleasability().GetRegions() {
		b.Releasability.Regions = append(b.Releasability.Regions, region.Region(r))
	}
	for _, c := range p.GetCaveats() {
		b.Caveats = append(b.Caveats, bulletin.Caveat(c))
	}
	for _, in := range p.GetIndicators() {
		b.Indicators = append(b.Indicators, bulletin.Indicator{Type: bulletin.IndicatorType(in.GetType()),
			Value: in.GetValue(), Description: in.GetDescription(), Attributes: in.GetAttributes()})
	}
	return b
}

// draftToProto converts a draft: only what an author supplies.
func draftToProto(b *bulletin.Bulletin) *iantv1.Bulletin {
	p := &iantv1.Bulletin{
		Precedence: iantv1.Precedence(b.Precedence), Category: iantv1.Category(b.Category),
		Language: iantv1.Language(b.Language), Marking: iantv1.Marking(b.Marking),
		Title: b.Title, Body: b.Body, Conditions: b.Conditions,
		Releasability: &iantv1.Releasability{States: b.Releasability.States, All: b.Releasability.All},
	}
	if !b.ExpiresAt.IsZero() {
		p.ExpireTime = timestamppb.New(b.ExpiresAt)
	}
	if !b.Grading.IsZero() {
		p.SourceGrading = &iantv1.SourceGrading{Reliability: iantv1.SourceReliability(b.Grading.Reliability),
			Credibility: iantv1.InformationCredibility(b.Grading.Credibility)}
	}
	for _, r := range b.Releasability.Regions {
		p.Releasability.Regions = append(p.Releasability.Regions, iantv1.Region(r))
	}
	for _, c := range b.Caveats {
		p.Caveats = append(p.Caveats, iantv1.Caveat(c))
	}
	for _, in := range b.Indicators {
		p.Indicators = append(p.Indicators, &iantv1.Indicator{Type: iantv1.IndicatorType(in.Type), Value: in.Value,
			Description: in.Description, Attributes: in.Attributes})
	}
	return p
}

// printable makes text from another system safe for a terminal: control
// characters (but newlines, when multiline) and bidirectional overrides
// are written as \uXXXX escapes.
func printable(s string, multiline bool) string {
	var sb strings.Builder
	for _, r := range s {
		switch {
		case r == '\n' && multiline:
			sb.WriteRune(r)
		case unicode.IsControl(r), r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == unicode.ReplacementChar:
			sb.WriteString(`\u` + hex4(r))
		default:
			sb.WriteRune(r)
		}
	}
	return sb.String()
}

func hex4(r rune) string {
	const digits = "0123456789abcdef"
	return string([]byte{digits[r>>12&0xf], digits[r>>8&0xf], digits[r>>4&0xf], digits[r&0xf]})
}
