package store

// Word lists for Seed. Names are common in the markets a small European or
// American sales team sells to; companies are made of two words and a form.

var seedFirstNames = []string{
	"Anna", "Ben", "Clara", "David", "Emma", "Felix", "Greta", "Hannah", "Isabel", "Jonas",
	"Karl", "Laura", "Max", "Nina", "Oskar", "Paula", "Quentin", "Rosa", "Simon", "Tina",
	"Ulrich", "Vera", "Walter", "Xenia", "Yusuf", "Zoe", "James", "Mary", "Robert", "Patricia",
	"John", "Jennifer", "Michael", "Linda", "William", "Elizabeth", "Richard", "Barbara", "Joseph", "Susan",
	"Thomas", "Jessica", "Charles", "Sarah", "Christopher", "Karen", "Daniel", "Lisa", "Matthew", "Nancy",
	"Anthony", "Betty", "Mark", "Margaret", "Donald", "Sandra", "Steven", "Ashley", "Paul", "Kimberly",
	"Andrew", "Emily", "Joshua", "Donna", "Kenneth", "Michelle", "Kevin", "Carol", "Brian", "Amanda",
	"George", "Melissa", "Timothy", "Deborah", "Ronald", "Stephanie", "Edward", "Rebecca", "Jason", "Sharon",
	"Jeffrey", "Laura", "Ryan", "Cynthia", "Jacob", "Kathleen", "Gary", "Amy", "Nicholas", "Angela",
	"Eric", "Shirley", "Jonathan", "Anna", "Stephen", "Brenda", "Larry", "Pamela", "Justin", "Emma",
	"Lukas", "Mia", "Leon", "Sofia", "Noah", "Lena", "Elias", "Marie", "Paul", "Lea",
	"Jürgen", "Jörg", "Björn", "Søren", "François", "Renée", "José", "Łukasz", "Zoë", "Chloé",
	"Pierre", "Camille", "Louis", "Manon", "Hugo", "Léa", "Arthur", "Inès", "Giulia", "Marco",
	"Francesca", "Luca", "Sara", "Matteo", "Elena", "Carlos", "Lucía", "Javier", "Carmen", "Pablo",
	"Aisha", "Omar", "Fatima", "Ali", "Priya", "Arjun", "Mei", "Wei", "Yuki", "Hiro",
	"Sean", "Siobhan", "Liam", "Aoife", "Olga", "Dmitri", "Ingrid", "Lars", "Astrid", "Nils",
}

var seedLastNames = []string{
	"Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz", "Hoffmann",
	"Schäfer", "Koch", "Bauer", "Richter", "Klein", "Wolf", "Schröder", "Neumann", "Schwarz", "Zimmermann",
	"Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
	"Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin",
	"Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark", "Ramirez", "Lewis", "Robinson",
	"Walker", "Young", "Allen", "King", "Wright", "Scott", "Torres", "Nguyen", "Hill", "Flores",
	"Green", "Adams", "Nelson", "Baker", "Hall", "Rivera", "Campbell", "Mitchell", "Carter", "Roberts",
	"Dubois", "Durand", "Lefebvre", "Moreau", "Laurent", "Simon", "Michel", "Leroy", "Roux", "David",
	"Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci", "Marino", "Greco",
	"Jansen", "de Vries", "van den Berg", "van Dijk", "Bakker", "Visser", "Smit", "Meijer", "de Boer", "Mulder",
	"Kowalski", "Nowak", "Wiśniewski", "Wójcik", "Kowalczyk", "Andersson", "Johansson", "Karlsson", "Nilsson", "Eriksson",
	"O'Brien", "O'Connor", "Murphy", "Kelly", "Byrne", "Ryan", "Walsh", "McCarthy", "Gallagher", "Doherty",
	"Patel", "Shah", "Singh", "Kumar", "Khan", "Ahmed", "Chen", "Wang", "Li", "Zhang",
	"Tanaka", "Suzuki", "Sato", "Kim", "Park", "Choi", "Silva", "Santos", "Oliveira", "Pereira",
	"Ivanov", "Petrov", "Novak", "Horvat", "Kovač", "Popescu", "Nagy", "Papadopoulos", "Yılmaz", "Kaya",
	"García-Márquez", "Smith-Jones", "Berger", "Huber", "Gruber", "Pichler", "Steiner", "Moser", "Mayer", "Hofer",
}

var seedCompanyWords = []string{
	"Acme", "Blue", "River", "Summit", "Nordic", "Alpine", "Harbor", "Granite", "Silver", "Golden",
	"Oak", "Cedar", "Maple", "Pine", "Falcon", "Eagle", "Orbit", "Vertex", "Quantum", "Nova",
	"Apex", "Pioneer", "Atlas", "Beacon", "Crescent", "Delta", "Echo", "Fusion", "Horizon", "Ion",
	"Jade", "Keystone", "Lumen", "Meridian", "Nimbus", "Onyx", "Prism", "Quartz", "Redwood", "Sterling",
	"Titan", "Unity", "Vantage", "Willow", "Zenith", "Bright", "Clear", "Swift", "True", "Green",
	"North", "South", "East", "West", "Coastal", "Urban", "Metro", "Global", "United", "Prime",
	"Rhein", "Elbe", "Isar", "Main", "Spree", "Donau", "Brenner", "Seine", "Loire", "Tiber",
}

var seedCompanyKinds = []string{
	"Logistics", "Software", "Systems", "Consulting", "Foods", "Energy", "Solutions", "Labs", "Media", "Partners",
	"Analytics", "Health", "Robotics", "Design", "Manufacturing", "Retail", "Capital", "Networks", "Motors", "Textiles",
	"Pharma", "Studios", "Engineering", "Holdings", "Services", "Trading", "Ventures", "Dynamics", "Works", "Group",
}

var seedCompanyForms = []string{"GmbH", "AG", "Inc", "Ltd", "LLC", "SAS", "BV", "Co", "", "", "", "KG", "S.r.l.", "Oy", "AB"}

var seedTLDs = []string{"com", "com", "com", "de", "de", "io", "co.uk", "fr", "nl", "it", "net", "eu"}

var seedFreemail = []string{"gmail.com", "outlook.com", "web.de", "gmx.de", "yahoo.com", "icloud.com", "proton.me"}

var seedDealProducts = []string{
	"annual licence", "pilot project", "renewal", "expansion", "onboarding package", "support contract",
	"hardware order", "consulting retainer", "training", "enterprise plan", "starter plan", "integration",
	"data migration", "framework agreement", "Q1 order", "Q3 order", "upgrade", "rollout phase 2",
}

var seedNoteBodies = []string{
	"Called about the proposal; they want a revised quote by Friday.",
	"Met at the trade fair. Interested in a pilot for their sales team.",
	"Decision maker is on holiday until next month — follow up then.",
	"Sent pricing sheet. Budget approval expected next quarter.",
	"They compared us with two competitors; price is the main concern.",
	"Asked for references in their industry. Shared two case studies.",
	"Procurement needs a security questionnaire filled in.",
	"Very happy with the onboarding so far. Possible upsell in autumn.",
	"Contract is with legal; expect comments within two weeks.",
	"Left a voicemail, no answer yet.",
	"New contact after the previous buyer left the company.",
	"Wants a demo for the management team next Tuesday.",
}

var seedEmailSubjects = []string{
	"Re: Proposal", "Follow-up on our call", "Pricing for next year", "Meeting notes", "Contract draft",
	"Quick question", "Introduction", "Invoice", "Re: Demo", "Onboarding next steps",
}

var seedTaskTitles = []string{
	"Send revised quote", "Call back about budget", "Prepare demo", "Check contract status",
	"Send case studies", "Schedule kickoff", "Follow up after trade fair", "Ask for referral",
}

var seedMeetingTitles = []string{
	"Discovery call", "Product demo", "Contract review", "Quarterly business review", "Kickoff meeting", "Pricing discussion",
}
