// The console's interface texts in es, en, pt and fr. Bulletin content is
// never machine-translated: it is shown in the person's language when the
// bulletin carries a translation into it, else in its original.
"use strict";
(function () {
  const T = {
    "nav.feed": ["Novedades", "Feed", "Feed", "Fil"],
    "nav.post": ["Publicar", "Post", "Publicar", "Publier"],
    "nav.secretariat": ["Secretaría", "Secretariat", "Secretaria", "Secrétariat"],
    "lang.label": ["Idioma", "Language", "Idioma", "Langue"],
    "feed.title": ["Boletines en vivo", "Live feed", "Boletins ao vivo", "Bulletins en direct"],
    "feed.flash": ["Boletín FLASH recibido", "FLASH bulletin received", "Boletim FLASH recebido", "Bulletin FLASH reçu"],
    "feed.dismiss": ["Cerrar", "Dismiss", "Fechar", "Fermer"],
    "feed.sound": ["Sonido con FLASH", "Sound on FLASH", "Som com FLASH", "Son pour FLASH"],
    "feed.more": ["Cargar más", "Load more", "Carregar mais", "Charger plus"],
    "feed.live": ["En vivo", "Live", "Ao vivo", "En direct"],
    "feed.reconnecting": ["Reconectando…", "Reconnecting…", "Reconectando…", "Reconnexion…"],
    "feed.empty": ["Ningún boletín", "No bulletins", "Nenhum boletim", "Aucun bulletin"],
    "filter.text": ["Texto", "Text", "Texto", "Texte"],
    "filter.origin": ["Estado de origen", "Origin state", "Estado de origem", "État d'origine"],
    "filter.region": ["Región", "Region", "Região", "Région"],
    "filter.category": ["Categoría", "Category", "Categoria", "Catégorie"],
    "filter.precedence": ["Precedencia", "Precedence", "Precedência", "Priorité"],
    "filter.marking": ["Marca", "Marking", "Marcação", "Marquage"],
    "filter.any": ["todos", "any", "todos", "tous"],
    "b.body": ["Texto", "Body", "Texto", "Texte"],
    "b.indicators": ["Indicadores", "Indicators", "Indicadores", "Indicateurs"],
    "b.ind.type": ["Tipo", "Type", "Tipo", "Type"],
    "b.ind.value": ["Valor", "Value", "Valor", "Valeur"],
    "b.ind.description": ["Descripción", "Description", "Descrição", "Description"],
    "b.history": ["Historial de revisiones", "Revision history", "Histórico de revisões", "Historique des révisions"],
    "b.thread": ["Hilo", "Thread", "Conversa", "Fil de discussion"],
    "b.actions": ["Acciones", "Actions", "Ações", "Actions"],
    "b.ack": ["Acusar recibo", "Acknowledge", "Confirmar recebimento", "Accuser réception"],
    "b.acked": ["Acuse de recibo registrado", "Acknowledged", "Recebimento confirmado", "Réception confirmée"],
    "b.reply": ["Responder", "Reply", "Responder", "Répondre"],
    "b.reply.kind": ["Tipo", "Kind", "Tipo", "Type"],
    "b.reply.to": ["Para", "To", "Para", "À"],
    "b.reply.place": ["Lugar (avistamiento)", "Place (sighting)", "Local (avistamento)", "Lieu (observation)"],
    "b.reply.send": ["Enviar respuesta", "Send reply", "Enviar resposta", "Envoyer la réponse"],
    "b.forward": ["Reenviar", "Forward", "Encaminhar", "Transférer"],
    "b.forward.target": ["Al Estado", "To state", "Para o Estado", "À l'État"],
    "b.forward.reason": ["Motivo (para pedir consentimiento)", "Reason (for a consent request)", "Motivo (para pedir consentimento)", "Motif (pour une demande de consentement)"],
    "b.forward.send": ["Reenviar", "Forward", "Encaminhar", "Transférer"],
    "b.forward.consent": ["Pedir consentimiento al origen", "Ask the origin's consent", "Pedir consentimento à origem", "Demander le consentement de l'origine"],
    "b.revise": ["Revisar", "Revise", "Revisar", "Réviser"],
    "b.revise.send": ["Publicar revisión", "Publish revision", "Publicar revisão", "Publier la révision"],
    "b.revoke": ["Revocar", "Revoke", "Revogar", "Révoquer"],
    "b.revoke.reason": ["Motivo", "Reason", "Motivo", "Motif"],
    "b.revoke.send": ["Revocar", "Revoke", "Revogar", "Révoquer"],
    "b.done": ["Hecho", "Done", "Feito", "Fait"],
    "b.revision": ["Revisión", "Revision", "Revisão", "Révision"],
    "b.changed": ["cambió", "changed", "mudou", "modifié"],
    "reply.note": ["nota", "note", "nota", "note"],
    "reply.sighting": ["avistamiento", "sighting", "avistamento", "observation"],
    "reply.rfi": ["solicitud de información", "request for information", "pedido de informação", "demande d'information"],
    "reply.answer": ["respuesta", "answer", "resposta", "réponse"],
    "reply.origin": ["el origen", "the origin", "a origem", "l'origine"],
    "reply.recipients": ["todos los destinatarios", "every recipient", "todos os destinatários", "tous les destinataires"],
    "f.origin": ["Origen", "Origin", "Origem", "Origine"],
    "f.author": ["Autor", "Author", "Autor", "Auteur"],
    "f.created": ["Creado", "Created", "Criado", "Créé"],
    "f.expires": ["Vence", "Expires", "Expira", "Expire"],
    "f.grading": ["Evaluación de la fuente", "Source grading", "Avaliação da fonte", "Évaluation de la source"],
    "f.language": ["Idioma del contenido", "Content language", "Idioma do conteúdo", "Langue du contenu"],
    "f.caveats": ["Restricciones", "Caveats", "Restrições", "Restrictions"],
    "f.release": ["Difusión", "Releasability", "Difusão", "Diffusion"],
    "f.revision": ["Revisión", "Revision", "Revisão", "Révision"],
    "f.ack": ["Acuse", "Acknowledged", "Confirmado", "Accusé"],
    "post.heading": ["Publicar un boletín", "Post a bulletin", "Publicar um boletim", "Publier un bulletin"],
    "post.title": ["Título", "Title", "Título", "Titre"],
    "post.language": ["Idioma del contenido", "Language of the content", "Idioma do conteúdo", "Langue du contenu"],
    "post.reliability": ["Fiabilidad de la fuente", "Source reliability", "Confiabilidade da fonte", "Fiabilité de la source"],
    "post.credibility": ["Credibilidad de la información", "Information credibility", "Credibilidade da informação", "Crédibilité de l'information"],
    "post.none": ["ninguna", "none", "nenhuma", "aucune"],
    "post.caveats": ["Restricciones", "Caveats", "Restrições", "Restrictions"],
    "post.release": ["Difusión", "Releasability", "Difusão", "Diffusion"],
    "post.all": ["todos los Estados miembros", "all member states", "todos os Estados membros", "tous les États membres"],
    "post.indicators": ["Indicadores (uno por línea: tipo valor, p. ej. travel-document P1234567)", "Indicators (one a line: type value, e.g. travel-document P1234567)", "Indicadores (um por linha: tipo valor, p. ex. travel-document P1234567)", "Indicateurs (un par ligne : type valeur, p. ex. travel-document P1234567)"],
    "post.expires": ["Vence (opcional)", "Expires (optional)", "Expira (opcional)", "Expire (facultatif)"],
    "post.submit": ["Publicar", "Post", "Publicar", "Publier"],
    "post.posted": ["Publicado", "Posted", "Publicado", "Publié"],
    "caveat.leo": ["solo fuerzas del orden", "law enforcement only", "somente forças da lei", "forces de l'ordre uniquement"],
    "caveat.noshare": ["sin difusión ulterior", "no onward sharing", "sem difusão adicional", "pas de diffusion ultérieure"],
    "caveat.consent": ["requiere consentimiento del originador", "originator consent required", "requer consentimento do originador", "consentement de l'émetteur requis"],
    "err.required": ["Obligatorio", "Required", "Obrigatório", "Obligatoire"],
    "err.release": ["Elija al menos un Estado o una región", "Pick at least one state or region", "Escolha ao menos um Estado ou região", "Choisissez au moins un État ou une région"],
    "err.indicator": ["Indicador no válido (tipo valor)", "Invalid indicator (type value)", "Indicador inválido (tipo valor)", "Indicateur invalide (type valeur)"],
    "err.node": ["El nodo lo rechazó", "The node refused it", "O nó recusou", "Le nœud l'a refusé"],
    "err.session": ["Sesión vencida: abra de nuevo la URL de iant console", "Session ended: open the iant console URL again", "Sessão encerrada: abra de novo a URL do iant console", "Session terminée : rouvrez l'URL de iant console"],
    "state.revoked": ["REVOCADO", "REVOKED", "REVOGADO", "RÉVOQUÉ"],
    "state.expired": ["VENCIDO", "EXPIRED", "EXPIRADO", "EXPIRÉ"],
    "prec.flash": ["FLASH", "FLASH", "FLASH", "FLASH"],
    "prec.immediate": ["Inmediato", "Immediate", "Imediato", "Immédiat"],
    "prec.priority": ["Prioritario", "Priority", "Prioritário", "Prioritaire"],
    "prec.routine": ["Rutina", "Routine", "Rotina", "Routine"],
    "cat.foreign_terrorist_fighter": ["combatiente terrorista extranjero", "foreign terrorist fighter", "combatente terrorista estrangeiro", "combattant terroriste étranger"],
    "cat.known_or_suspected_terrorist": ["terrorista conocido o sospechoso", "known or suspected terrorist", "terrorista conhecido ou suspeito", "terroriste connu ou présumé"],
    "cat.arms_trafficking": ["tráfico de armas", "arms trafficking", "tráfico de armas", "trafic d'armes"],
    "cat.cbrn": ["QBRN", "CBRN", "QBRN", "NRBC"],
    "cat.cyber_critical_infrastructure": ["ciber / infraestructura crítica", "cyber / critical infrastructure", "ciber / infraestrutura crítica", "cyber / infrastructures critiques"],
    "cat.crowded_spaces": ["espacios concurridos", "crowded spaces", "espaços lotados", "lieux très fréquentés"],
    "cat.terrorism_financing": ["financiamiento del terrorismo", "terrorism financing", "financiamento do terrorismo", "financement du terrorisme"],
    "cat.violent_extremism": ["extremismo violento", "violent extremism", "extremismo violento", "extrémisme violent"],
    "cat.biosecurity": ["bioseguridad", "biosecurity", "biossegurança", "biosécurité"],
    "cat.border_document_fraud": ["fraude documental y fronteriza", "border and document fraud", "fraude documental e de fronteira", "fraude documentaire et frontalière"],
    "cat.disinformation": ["desinformación", "disinformation", "desinformação", "désinformation"],
    "cat.other": ["otra", "other", "outra", "autre"],
    "consent.title": ["Solicitudes de consentimiento", "Consent requests", "Pedidos de consentimento", "Demandes de consentement"],
    "consent.grant": ["Conceder", "Grant", "Conceder", "Accorder"],
    "consent.refuse": ["Rechazar", "Refuse", "Recusar", "Refuser"],
    "consent.asks": ["pide reenviar a", "asks to forward to", "pede para encaminhar a", "demande à transférer à"],
    "sec.title": ["Matriz de entrega", "Delivery matrix", "Matriz de entrega", "Matrice de livraison"],
    "sec.track": ["Seguir boletín (origen e id)", "Follow bulletin (origin and id)", "Acompanhar boletim (origem e id)", "Suivre un bulletin (origine et id)"],
    "sec.follow": ["Seguir", "Follow", "Acompanhar", "Suivre"],
    "sec.bulletin": ["Boletín", "Bulletin", "Boletim", "Bulletin"],
    "sec.overdue": ["Atrasos y escalamientos", "Overdue and escalations", "Atrasos e escalonamentos", "Retards et escalades"],
    "sec.stats": ["Estadísticas por Estado", "Per-state statistics", "Estatísticas por Estado", "Statistiques par État"],
    "sec.state": ["Estado", "State", "Estado", "État"],
    "sec.released": ["emitidos", "released", "emitidos", "émis"],
    "sec.received": ["recibidos", "received", "recebidos", "reçus"],
    "sec.acked": ["con acuse", "acknowledged", "confirmados", "accusés"],
    "sec.delivery": ["entrega p50 / p95", "delivery p50 / p95", "entrega p50 / p95", "livraison p50 / p95"],
    "sec.ackTime": ["acuse p50 / p95", "acknowledgement p50 / p95", "confirmação p50 / p95", "accusé p50 / p95"],
    "chart.title": ["Tiempos de entrega y de acuse", "Delivery and acknowledgement times", "Tempos de entrega e de confirmação", "Délais de livraison et d'accusé de réception"],
    "chart.note": ["Boletines publicados en los últimos 30 días, por Estado, según el tiempo desde su publicación.",
      "Bulletins posted in the last 30 days, per state, by time from posting.",
      "Boletins publicados nos últimos 30 dias, por Estado, pelo tempo desde a publicação.",
      "Bulletins publiés ces 30 derniers jours, par État, selon le délai depuis la publication."],
    "chart.delivery": ["Tiempo de entrega", "Delivery time", "Tempo de entrega", "Délai de livraison"],
    "chart.ack": ["Tiempo de acuse", "Acknowledgement time", "Tempo de confirmação", "Délai d'accusé de réception"],
    "chart.never": ["aún no", "not yet", "ainda não", "pas encore"],
    "chart.overdue": ["atrasados", "overdue", "atrasados", "en retard"],
    "chart.bucket": ["Tiempo desde la publicación", "Time from posting", "Tempo desde a publicação", "Délai depuis la publication"],
    "chart.table": ["Cifras", "Counts", "Números", "Chiffres"],
    "chart.none": ["Ningún boletín en los últimos 30 días", "No bulletins in the last 30 days", "Nenhum boletim nos últimos 30 dias", "Aucun bulletin ces 30 derniers jours"],
    "sec.log": ["Registro de auditoría", "Audit log", "Registro de auditoria", "Journal d'audit"],
    "sec.verifyBulletin": ["Id de boletín (opcional)", "Bulletin id (optional)", "Id do boletim (opcional)", "Id du bulletin (facultatif)"],
    "sec.verify": ["Verificar", "Verify", "Verificar", "Vérifier"],
    "sec.verified": ["Verificado", "Verified", "Verificado", "Vérifié"],
    "sec.failed": ["Verificación fallida", "Verification failed", "Verificação falhou", "Échec de la vérification"],
    "sec.size": ["Entradas", "Entries", "Entradas", "Entrées"],
    "sec.root": ["Raíz", "Root", "Raiz", "Racine"],
    "sec.time": ["Hora", "Time", "Hora", "Heure"],
    "cell.delivered": ["entregado", "delivered", "entregue", "livré"],
    "cell.read": ["leído", "read", "lido", "lu"],
    "cell.acknowledged": ["con acuse", "acknowledged", "confirmado", "accusé"],
    "cell.overdue": ["atrasado", "overdue", "atrasado", "en retard"],
    "cell.revoked": ["revocación confirmada", "revocation confirmed", "revogação confirmada", "révocation confirmée"],
    "lang.shown": ["Mostrado en", "Shown in", "Exibido em", "Affiché en"],
    "lang.also": ["también en", "also in", "também em", "aussi en"],
    "lang.original": ["original", "original", "original", "original"],
    "lang.translation": ["traducción de", "translation by", "tradução de", "traduction par"],
    "aud.confidential": ["audiencia confidencial", "confidential audience", "audiência confidencial", "audience confidentielle"],
    "aud.recipients": ["destinatarios que usted ve:", "recipients shown to you:", "destinatários que você vê:", "destinataires qui vous sont montrés :"],
    "f.audience": ["Audiencia", "Audience", "Audiência", "Audience"],
    "nav.logout": ["Cerrar sesión", "Sign out", "Sair", "Se déconnecter"],
    "login.title": ["Consola", "Console", "Console", "Console"],
    "login.signing": ["Iniciando sesión…", "Signing in…", "Entrando…", "Connexion…"],
    "login.help": ["Ejecute de nuevo iant console (o pulse Intro en su terminal) para obtener una URL de acceso nueva y ábrala en este navegador.",
      "Run iant console again (or press Enter in its terminal) for a new login URL, and open it in this browser.",
      "Execute de novo iant console (ou tecle Enter no terminal dele) para obter uma nova URL de acesso e abra-a neste navegador.",
      "Relancez iant console (ou appuyez sur Entrée dans son terminal) pour obtenir une nouvelle URL de connexion, et ouvrez-la dans ce navigateur."],
    "login.out": ["Sesión cerrada.", "Signed out.", "Sessão encerrada.", "Déconnecté."],
    "login.none": ["Sin sesión en este navegador.", "No session in this browser.", "Nenhuma sessão neste navegador.", "Aucune session dans ce navigateur."],
    "login.failed": ["No se pudo iniciar sesión", "Could not sign in", "Não foi possível entrar", "Connexion impossible"],
    "cell.pending": ["pendiente", "pending", "pendente", "en attente"],
  };
  const LANGS = ["es", "en", "pt", "fr"];
  // lang is the person's choice (remembered), else the preferred
  // language their node's configuration gives them, else the browser's.
  function lang() {
    const saved = localStorage.getItem("iant-lang");
    if (LANGS.includes(saved)) return saved;
    const node = sessionStorage.getItem("iant-node-lang");
    if (LANGS.includes(node)) return node;
    const nav = (navigator.language || "en").slice(0, 2);
    return LANGS.includes(nav) ? nav : "en";
  }
  // t returns the text of key in the person's language (the key if none).
  function t(key) {
    const row = T[key];
    return row ? row[LANGS.indexOf(lang())] : key;
  }
  // apply sets the text of every element with data-i18n.
  function apply(root) {
    document.documentElement.lang = lang();
    (root || document).querySelectorAll("[data-i18n]").forEach((el) => {
      el.textContent = t(el.dataset.i18n);
    });
  }
  function setLang(l) {
    if (!LANGS.includes(l)) return;
    localStorage.setItem("iant-lang", l);
    apply();
    document.dispatchEvent(new CustomEvent("iant-lang"));
  }
  // adoptNodeLanguage takes the node's preferred language for the person
  // (a StoredBulletin's preferredLanguage, e.g. LANGUAGE_PT) when they
  // never chose one here.
  function adoptNodeLanguage(v) {
    const l = String(v || "").replace("LANGUAGE_", "").toLowerCase();
    if (!LANGS.includes(l) || LANGS.includes(localStorage.getItem("iant-lang")) || lang() === l) return;
    sessionStorage.setItem("iant-node-lang", l);
    apply();
    const sel = document.getElementById("lang");
    if (sel) sel.value = l;
    document.dispatchEvent(new CustomEvent("iant-lang"));
  }
  window.I18N = { t, apply, lang, setLang, adoptNodeLanguage, has: (k) => k in T };
})();
